"""What an uploaded evidence file really is, judged from its bytes, never its name."""

# Magic numbers at the start of the file, per accepted type.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"%PDF-", "application/pdf"),
)
ACCEPTED = "PNG, JPEG, PDF or plain text"


def sniff_content_type(data: bytes) -> str | None:
    """The content type of ``data`` (PNG, JPEG, PDF or UTF-8 plain text), or None when it
    is none of those. Text is text when it decodes as UTF-8 and holds no NUL byte."""
    for magic, content_type in SIGNATURES:
        if data.startswith(magic):
            return content_type
    if not data or b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"
