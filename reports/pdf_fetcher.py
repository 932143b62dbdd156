"""What WeasyPrint may load while it prints a report: Greenlight's own static files,
and nothing else.

A report's HTML holds text people typed (case titles, defect titles, notes…). It is
escaped, but the printer must not be the weak point if markup ever slips through: an
``<img src="file:///etc/passwd">``, a stylesheet on another host or a link to an
internal address would otherwise be fetched by the worker. So documents are printed
with ``base_url`` at a made-up origin, and the fetcher answers only addresses under
that origin's ``STATIC_URL`` from the static files (the finders, or ``STATIC_ROOT``
once collected); ``file:``, ``http(s):`` elsewhere, ``data:`` and the rest are refused
(WeasyPrint leaves the resource out and prints the rest).
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Not a real host: only this fetcher ever answers it.
ORIGIN = "https://greenlight-static.invalid"


def base_url() -> str:
    """The base URL to print documents with: relative static paths resolve under it."""
    return f"{ORIGIN}{settings.STATIC_URL if settings.STATIC_URL.startswith('/') else '/'}"


def _static_file(url: str) -> Path | None:
    parts = urlsplit(url)
    static_url = base_url().removeprefix(ORIGIN)
    if f"{parts.scheme}://{parts.netloc}" != ORIGIN or not parts.path.startswith(static_url):
        return None
    relative = unquote(parts.path.removeprefix(static_url))
    if not relative or ".." in Path(relative).parts or relative.startswith("/"):
        return None
    found = finders.find(relative)
    if found:
        return Path(found)
    if settings.STATIC_ROOT:
        root = Path(settings.STATIC_ROOT).resolve()
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    return None


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint's fetcher, answering only Greenlight's own static files."""

    def fetch(self, url, headers=None):
        path = _static_file(url)
        if path is None:
            raise ValueError(f"Not one of Greenlight's static files: {url[:200]}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
