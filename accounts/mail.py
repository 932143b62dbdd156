"""The one way Greenlight sends email: a message per template trio in
``templates/emails/``: ``<name>_subject.txt``, ``<name>_body.txt`` and ``<name>_body.html``."""

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


def email_render(*, name: str, context: dict, to: list[str]) -> EmailMultiAlternatives:
    """Build (not send) the email ``name`` for ``to``, with plain-text and HTML bodies."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{name}_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    message.attach_alternative(render_to_string(f"emails/{name}_body.html", context), "text/html")
    return message


def email_send(
    *, name: str, context: dict, to: list[str], attachments: list[Attachment] = ()
) -> None:
    """Render and send the email ``name``. Raises on SMTP failure, so a task can retry;
    recording deliveries so a retry never sends twice is the caller's job."""
    message = email_render(name=name, context=context, to=to)
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    message.send()
