"""A JSON log formatter: one object per line, for log collectors; and the filter that
keeps secrets out of every log line."""

import json
import logging
import re

# Attributes every LogRecord has; anything else was passed as `extra=` and is kept.
STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Extras (django.request passes the request, whose text holds the query string)
        # are written as text, without secrets.
        entry.update(
            {
                key: value if isinstance(value, int | float | bool | None) else redact(str(value))
                for key, value in vars(record).items()
                if key not in STANDARD
            }
        )
        if record.exc_info:
            entry["exception"] = redact(record.exc_text or self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


# What a secret looks like in a log line: an Authorization header's credentials, one of
# our API tokens wherever it appears, and a password, secret or token given as key=value.
SECRET_PATTERNS = [
    (re.compile(r"(?i)\b(token|bearer|basic)(\s+)[\w\-.~+/=:]{8,}"), r"\1\2[redacted]"),
    (re.compile(r"glt_[A-Za-z0-9_\-]+"), "[redacted]"),
    (
        re.compile(
            r"(?i)([\"']?\b[\w-]*(?:password|passwd|secret|token|api_key|authorization)[\w-]*"
            r"[\"']?\s*[=:]\s*)(\[[^\]]*\]|[\"'][^\"']*[\"']|[^\s,;&}]+)"
        ),
        r"\1[redacted]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's message (and any traceback) without secrets, whoever logged
    it: a last line of defence behind never logging them in the first place."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
