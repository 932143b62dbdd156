"""The OpenAPI schema: every operation documents the one error format of the API."""

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="invalid, not_found, permission_denied, conflict, …")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    fields = serializers.DictField(
        required=False, help_text="For invalid input: the messages of each field."
    )
    current = serializers.DictField(
        required=False, help_text="For a conflict: the record as it is now."
    )
    problems = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="For an import: every problem, with its source, row and column.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERRORS = {
    "400": "The input is not valid; error.fields says why, field by field.",
    "401": "No credentials, or a bad or revoked token.",
    "403": "Signed in, but your role may not do this to a record you can see.",
    "404": "No such record, or one you may not see.",
    "405": "The method is not allowed here.",
    "406": "The requested format is not available here.",
    "409": "The change conflicts with the current state.",
    "415": "The request body's media type is not accepted.",
}
SAFE_ERRORS = ("400", "401", "403", "404", "405", "406")


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = SAFE_ERRORS if self.method in ("GET", "HEAD") else tuple(ERRORS)
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=ErrorSerializer, description=ERRORS[code]),
                    code,
                    media_types=["application/json"],
                    direction=direction,
                )
            elif not responses[code].get("content"):
                described = OpenApiResponse(
                    response=ErrorSerializer, description=responses[code].get("description", "")
                )
                responses[code] = self._get_response_for_code(
                    described, code, media_types=["application/json"], direction=direction
                )
        return responses
