"""Names of the files Greenlight hands out or keeps: every download's filename (the
``Content-Disposition`` of exports, PDFs, packages and evidence), every email
attachment's and every file saved under ``MEDIA_ROOT`` is built here.

A name is made of parts (a product's slug, a release's version, a stage…) that may
hold anything an older release or an import let in: line breaks (a header cannot carry
them), quotes (which would add parameters to the header), slashes (folders under the
media root), dots (``..``). Each part keeps letters, digits, spaces and ``. _ + -``;
any run of other characters becomes one ``-``; the parts are joined with ``-``.
"""

import re

from django.utils.http import content_disposition_header

_UNSAFE = re.compile(r"[^\w .+-]+")
_DOTS = re.compile(r"\.{2,}")
_SPACES = re.compile(r" {2,}")
MAX_LENGTH = 150


def _clean(part) -> str:
    text = _UNSAFE.sub("-", str(part))
    text = _SPACES.sub(" ", _DOTS.sub(".", text))
    return text.strip(" .-")


def download_filename(*parts, ext: str) -> str:
    """``parts`` joined with ``-``, made safe, plus ``.ext``: ``download_filename(
    "acceptance-report", "2.4", "beta", ext="pdf")`` is ``acceptance-report-2.4-beta.pdf``."""
    stem = "-".join(filter(None, map(_clean, parts))) or "download"
    suffix = re.sub(r"[^A-Za-z0-9]", "", ext)[:10] or "bin"
    return f"{stem[: MAX_LENGTH - len(suffix) - 1].rstrip(' .-')}.{suffix}"


def attachment_header(*parts, ext: str) -> str:
    """The ``Content-Disposition`` value of a download named from ``parts``."""
    return content_disposition_header(True, download_filename(*parts, ext=ext))


def download_filename_of(name: str) -> str:
    """A name that already exists — a tester's upload, a stored file's last part —
    made safe, keeping its extension: ``screenshot 1.png``."""
    stem, dot, ext = name.rsplit("/", 1)[-1].rpartition(".")
    if not (dot and stem):
        stem, ext = name.rsplit("/", 1)[-1], "bin"
    return download_filename(stem, ext=ext)
