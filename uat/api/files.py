"""File downloads and uploads of the API: ``?format=csv`` or ``?format=xlsx``."""

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import renderers, serializers

from ..downloads import attachment_header
from ..spreadsheets import CSV_TYPE, XLSX_TYPE


class _FileRenderer(renderers.BaseRenderer):
    """Chosen by ``?format=``; the view returns the file itself. An error answer on
    such a URL is still JSON in the one error format."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


class CSVRenderer(_FileRenderer):
    media_type = CSV_TYPE
    format = "csv"


class XLSXRenderer(_FileRenderer):
    media_type = XLSX_TYPE
    format = "xlsx"


FILE_RENDERERS = [CSVRenderer, XLSXRenderer]
FORMAT_PARAMETER = OpenApiParameter(
    "format", str, enum=["csv", "xlsx"], description="csv (the default) or xlsx."
)
FILE_RESPONSES = {
    (200, CSV_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="A CSV file."),
    (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="An XLSX workbook."),
}


def requested_format(request) -> str:
    renderer = getattr(request, "accepted_renderer", None)
    return getattr(renderer, "format", "csv") if renderer else "csv"


def file_response(content: bytes, name: str, fmt: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE if fmt == "xlsx" else CSV_TYPE)
    response["Content-Disposition"] = attachment_header(name, ext=fmt)
    return response


class ImportSerializer(serializers.Serializer):
    product = serializers.SlugField(help_text="The slug of the product to import into.")
    file = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        max_length=5,
        help_text="One or more CSV or XLSX files (requirements and/or cases).",
    )


class ImportProblemSerializer(serializers.Serializer):
    source = serializers.CharField()
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    created = serializers.DictField(child=serializers.IntegerField())
    updated = serializers.DictField(child=serializers.IntegerField())
    unchanged = serializers.DictField(child=serializers.IntegerField())
