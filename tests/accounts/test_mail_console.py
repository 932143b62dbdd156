"""The embedded default's console mailer: links whole, attachments named."""

import io
import os
import subprocess
import sys
from pathlib import Path

from django.core.mail import EmailMultiAlternatives

from accounts.mail_console import EmailBackend

ROOT = Path(__file__).resolve().parents[2]
LINK = "http://127.0.0.1:8100/reports/reports/" + "0123456789abcdef" * 4 + "/sign/?from=email"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40


def printed(message) -> str:
    stream = io.StringIO()
    assert EmailBackend(stream=stream).send_messages([message]) == 1
    return stream.getvalue()


def a_message() -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject="Report ready for sign-off",
        body=f"Please review and sign: {LINK}\nThank you.\n",
        from_email="Greenlight <greenlight@localhost>",
        to=["owner@example.com"],
    )
    message.attach_alternative(f'<p><a href="{LINK}">Sign</a></p>', "text/html")
    message.attach("acme-crm-2.4-alpha.pdf", PDF, "application/pdf")
    return message


def test_the_console_prints_a_long_link_on_one_line():
    text = printed(a_message())
    assert f"Please review and sign: {LINK}\n" in text
    assert "=\n" not in text
    assert "=3D" not in text
    assert "Subject: Report ready for sign-off" in text
    assert "To: owner@example.com" in text


def test_the_console_names_attachments_instead_of_dumping_them():
    text = printed(a_message())
    assert f"[attachment: acme-crm-2.4-alpha.pdf, application/pdf, {len(PDF):,} bytes]" in text
    assert "[alternative: text/html," in text
    assert "JVBERi0" not in text  # the base64 of "%PDF-"
    assert len(text) < 1000


def test_the_embedded_default_mailer_is_the_readable_console():
    """Without SMTP_HOST, mail sent the one way Greenlight sends it reaches standard
    output through this backend (MAILERS in config/settings.py)."""
    script = (
        "from django.core import mail\n"
        "from tests.accounts.test_mail_console import a_message\n"
        "mail.mailers.default.send_messages([a_message()])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"SMTP_HOST", "DEBUG", "SECRET_KEY"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert LINK in result.stdout
    assert "[attachment: acme-crm-2.4-alpha.pdf, application/pdf," in result.stdout
    assert "JVBERi0" not in result.stdout
