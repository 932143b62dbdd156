"""The console mailer of the embedded default (no SMTP_HOST): each message printed as
someone reads it, not as SMTP carries it.

Django's console backend prints the raw MIME message: quoted-printable breaks a long
link across lines (`=\\n`), so it cannot be copied, and an attached PDF fills the
terminal with base64. This one prints the headers, the plain-text body as it is, and a
line naming each HTML alternative and attachment (file name, type, size).
"""

import sys
import threading
from email.mime.base import MIMEBase

from django.core.mail.backends.base import BaseEmailBackend

RULE = "-" * 79


def _size(content) -> int:
    if isinstance(content, str):
        return len(content.encode())
    return len(content or b"")


def _attachment_line(attachment) -> str:
    if isinstance(attachment, MIMEBase):
        filename = attachment.get_filename() or "(no name)"
        mimetype = attachment.get_content_type()
        size = _size(attachment.get_payload(decode=True))
    else:
        filename, content, mimetype = attachment
        filename = filename or "(no name)"
        mimetype = mimetype or "application/octet-stream"
        size = _size(content)
    return f"[attachment: {filename}, {mimetype}, {size:,} bytes]"


def message_text(message) -> str:
    """What the console shows of one ``EmailMessage``."""
    lines = [f"From: {message.from_email}", f"To: {', '.join(message.to)}"]
    if message.cc:
        lines.append(f"Cc: {', '.join(message.cc)}")
    if message.bcc:
        lines.append(f"Bcc: {', '.join(message.bcc)}")
    if message.reply_to:
        lines.append(f"Reply-To: {', '.join(message.reply_to)}")
    lines += [f"Subject: {message.subject}", "", message.body.rstrip("\n"), ""]
    for content, mimetype in getattr(message, "alternatives", ()):
        lines.append(f"[alternative: {mimetype}, {_size(content):,} bytes]")
    lines += [_attachment_line(attachment) for attachment in message.attachments]
    return "\n".join(lines).rstrip("\n") + "\n"


class EmailBackend(BaseEmailBackend):
    """Configured through ``MAILERS``; option ``stream`` (default: standard output)."""

    def __init__(self, *, stream=None, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send_messages(self, email_messages) -> int:
        with self._lock:
            for message in email_messages:
                self.stream.write(message_text(message))
                self.stream.write(RULE + "\n")
                self.stream.flush()
        return len(email_messages)
