"""One error format for every 4xx answer of the API::

    {"error": {"code": "invalid", "message": "…", "fields": {"title": ["…"]}}}

``code`` is a stable machine word (invalid, not_found, permission_denied,
not_authenticated, authentication_failed, conflict, …), ``message`` a sentence a person
can act on, and ``fields`` (only for invalid input) the messages per field.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The change conflicts with the current state."
    default_code = "conflict"


def django_validation_detail(error: DjangoValidationError):
    """A Django ``ValidationError`` as DRF detail: per field when it names fields."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [text for value in detail.values() for text in _flatten(value)]
    if isinstance(detail, list):
        return [text for value in detail for text in _flatten(value)]
    return [str(detail)]


def _fields(detail) -> dict:
    """Field messages as {name: [text]}; nested serializers keep their nesting."""
    if isinstance(detail, dict):
        return {
            key: (_fields(value) if isinstance(value, dict) else _plain(value))
            for key, value in detail.items()
        }
    return {}


def _plain(value):
    if isinstance(value, list):
        return [_fields(item) if isinstance(item, dict) else str(item) for item in value]
    return [str(value)]


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    error.update(extra)
    return {"error": error}


def _validation_body(detail) -> dict:
    if isinstance(detail, dict):
        general = _flatten(detail.get("non_field_errors", []))
        fields = _fields({k: v for k, v in detail.items() if k != "non_field_errors"})
        message = " ".join(general) or "Some fields are not valid; see fields."
        return error_body("invalid", message, fields)
    return error_body("invalid", " ".join(_flatten(detail)) or "The input is not valid.")


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_detail(exc))
    elif isinstance(exc, OverflowError | DataError):
        # A filter or id far out of range (say, ?plan=9223372036854775808) is bad input.
        exc = exceptions.ValidationError({"non_field_errors": ["A value is out of range."]})
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = Conflict("Other records still refer to this one, so it cannot be deleted.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        # A service's refusal (``uat.policy``) says why; keep it.
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        response.data = error_body(code, " ".join(_flatten(exc.detail)))
    return response


def conflict_response(message: str, current: dict) -> Response:
    """409 with the current state of the record, so a client can merge and retry."""
    return Response(error_body("conflict", message, current=current), status=409)
