"""What the web layer accepts as text, in one place.

Two characters can never be stored: NUL (``\\x00``; PostgreSQL refuses it in text and
JSON) and a lone UTF-16 surrogate (``\\ud800``…``\\udfff``, which only a JSON ``\\u``
escape can carry; it cannot be encoded, so neither the database nor an answer that
echoes it can hold it).

- Pages, htmx fragments, the admin and form-encoded API calls: ``TextInputMiddleware``
  drops NUL from every query and form value (and name) before any view sees it. Nobody
  types a NUL on purpose and nobody could see it to delete it, so refusing would only
  make a tester retype a run; dropping it keeps everything they typed. A NUL in the
  path itself (``/invitations/%00/``) names no page: 400.
- JSON bodies of the API: ``JSONParser`` refuses either character anywhere with a 400
  in the API's error format naming the field, so a machine learns its data is wrong
  instead of having it changed.
"""

from django.http import HttpResponseBadRequest, QueryDict
from rest_framework import exceptions, parsers

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL_MESSAGE = "Text may not contain NUL (\\x00) characters."
SURROGATE_MESSAGE = "Text may not contain lone UTF-16 surrogates (\\ud800-\\udfff)."


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    if NUL in text:
        return NUL_MESSAGE
    if any("\ud800" <= char <= "\udfff" for char in text):
        return SURROGATE_MESSAGE
    return None


def _without_nul(data: QueryDict) -> QueryDict:
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        cleaned.setlist(key.replace(NUL, ""), [value.replace(NUL, "") for value in values])
    cleaned._mutable = False
    return cleaned


def _has_nul(data: QueryDict) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in data.lists())


class TextInputMiddleware:
    """Drops NUL from the query and the form data; a NUL in the path is a 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path:
            return HttpResponseBadRequest("The address may not contain NUL characters.")
        if _has_nul(request.GET):
            request.GET = _without_nul(request.GET)
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        # After CsrfViewMiddleware, which reads the form already: the body is parsed
        # once, and files keep their upload handlers.
        if request.method == "POST" and request.content_type in FORM_TYPES:
            if _has_nul(request.POST):
                request.POST = _without_nul(request.POST)
            for upload in request.FILES.values():
                if upload.name and NUL in upload.name:
                    upload.name = upload.name.replace(NUL, "")
        return None


def _problems(data) -> dict:
    """{top-level field: [message]} for every string (or key) that cannot be stored."""
    if isinstance(data, dict):
        found = {}
        for key, value in data.items():
            problem = text_problem(str(key)) or _first_problem(value)
            if problem:
                found["non_field_errors" if text_problem(str(key)) else key] = [problem]
        return found
    problem = _first_problem(data)
    return {"non_field_errors": [problem]} if problem else {}


def _first_problem(data) -> str | None:
    if isinstance(data, str):
        return text_problem(data)
    if isinstance(data, dict):
        data = [*map(str, data.keys()), *data.values()]
    if isinstance(data, list):
        return next(filter(None, map(_first_problem, data)), None)
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing text that cannot be stored (NUL, lone surrogates)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        problems = _problems(data)
        if problems:
            raise exceptions.ValidationError(problems)
        return data
