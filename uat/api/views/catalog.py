"""The product library over the API."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ...imports import LibraryImportError, library_import
from ...models import Case, Environment, Product, Release, Requirement
from ...services import case_version_record
from ...tables import library_file, requirements_file
from ..errors import error_body
from ..files import (
    FILE_RENDERERS,
    FILE_RESPONSES,
    FORMAT_PARAMETER,
    ImportResultSerializer,
    ImportSerializer,
    file_response,
    requested_format,
)
from ..scopes import in_visible_products, visible_products
from ..serializers.catalog import (
    CaseSerializer,
    EnvironmentSerializer,
    ProductSerializer,
    ReleaseSerializer,
    RequirementSerializer,
)
from .base import WriteViewSet


class ProductViewSet(WriteViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_fields = ["slug"]
    ordering_fields = ["name", "slug", "created_at"]

    def scope(self, queryset):
        return queryset.filter(pk__in=visible_products(self.request.user).values("pk"))


class ReleaseViewSet(WriteViewSet):
    queryset = Release.objects.select_related("product")
    serializer_class = ReleaseSerializer
    filterset_fields = ["product", "product__slug", "stage", "kind", "version"]
    ordering_fields = ["version", "target_date", "created_at"]
    pipeline_actions = ("list", "retrieve")  # the release summary a pipeline gates

    def scope(self, queryset):
        return queryset.visible_to(self.request.user)


class EnvironmentViewSet(WriteViewSet):
    queryset = Environment.objects.select_related("product")
    serializer_class = EnvironmentSerializer
    filterset_fields = ["product", "product__slug", "is_active"]
    ordering_fields = ["name", "build"]

    def scope(self, queryset):
        return in_visible_products(queryset, self.request.user)


PRODUCT_PARAMETER = OpenApiParameter("product", str, required=True, description="Product slug.")


def _product(request) -> Product:
    return get_object_or_404(
        visible_products(request.user), slug=request.query_params.get("product", "")
    )


class RequirementViewSet(WriteViewSet):
    queryset = Requirement.objects.select_related("product")
    serializer_class = RequirementSerializer
    filterset_fields = ["product", "product__slug", "criticality", "key"]
    ordering_fields = ["key", "title", "criticality", "created_at"]

    def scope(self, queryset):
        return in_visible_products(queryset, self.request.user)

    @extend_schema(parameters=[PRODUCT_PARAMETER, FORMAT_PARAMETER], responses=FILE_RESPONSES)
    @action(detail=False, renderer_classes=FILE_RENDERERS, filter_backends=[])
    def export(self, request):
        """A product's requirements, in the import format."""
        product, fmt = _product(request), requested_format(request)
        return file_response(requirements_file(product, fmt), f"{product.slug}-requirements", fmt)


class CaseViewSet(WriteViewSet):
    """Cases with their steps. Each save that changes the text or the steps freezes a
    new version; executions keep the version they ran."""

    queryset = Case.objects.select_related("product").prefetch_related("steps", "requirements")
    serializer_class = CaseSerializer
    filterset_fields = ["product", "product__slug", "status", "priority", "key", "requirements"]
    ordering_fields = ["key", "title", "priority", "status", "updated_at"]

    def scope(self, queryset):
        return in_visible_products(queryset, self.request.user)

    action_permissions = {"import_library": "uat.add_case"}

    def after_save(self, obj) -> None:
        case_version_record(case=obj, actor=self.request.user)
        obj.refresh_from_db(fields=["version"])

    @extend_schema(parameters=[PRODUCT_PARAMETER, FORMAT_PARAMETER], responses=FILE_RESPONSES)
    @action(detail=False, renderer_classes=FILE_RENDERERS, filter_backends=[])
    def export(self, request):
        """A product's library — cases with their steps (and, in XLSX, requirements) —
        in the import format: what it exports imports back unchanged."""
        product, fmt = _product(request), requested_format(request)
        return file_response(library_file(product, fmt), f"{product.slug}-cases", fmt)

    @extend_schema(parameters=[FORMAT_PARAMETER], responses=FILE_RESPONSES)
    @action(
        detail=False,
        url_path="import-template",
        renderer_classes=FILE_RENDERERS,
        filter_backends=[],
        pagination_class=None,
    )
    def import_template(self, request):
        """An empty file with the import columns."""
        fmt = requested_format(request)
        return file_response(library_file(None, fmt, template=True), "greenlight-import", fmt)

    @extend_schema(request=ImportSerializer, responses={200: ImportResultSerializer})
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
    )
    def import_library(self, request):
        """Import requirements and cases from CSV or XLSX files, all or nothing; every
        problem comes back with its file, row and column."""
        data = ImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = get_object_or_404(
            visible_products(request.user), slug=data.validated_data["product"]
        )
        files = [(f.name, f.read()) for f in data.validated_data["file"]]
        try:
            result = library_import(product=product, files=files, actor=request.user)
        except LibraryImportError as error:
            problems = [vars(problem) for problem in error.problems]
            return Response(error_body("invalid", error.messages[0], problems=problems), status=400)
        return Response(result.as_dict())
