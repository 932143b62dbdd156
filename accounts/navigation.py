"""Where to go next: the one check of every ``next`` a request carries.

A ``next`` value is only ever a page of this site: an absolute path (or a full address
on this host and scheme) that names one of our routes. Anything else — another site, a
bare word that ``redirect()`` would try as a view name, a path no route answers — is
dropped, and the caller goes to its default page instead.
"""

from urllib.parse import unquote, urlsplit

from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, url: str | None = None) -> str:
    """``url`` (by default the request's ``next``, posted or in the query) when it is a
    page of this site, else ``""``."""
    if url is None:
        url = request.POST.get("next") or request.GET.get("next") or ""
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    path = urlsplit(url).path
    if not path.startswith("/"):
        return ""
    try:
        resolve(unquote(path))
    except Resolver404:
        return ""
    return url
