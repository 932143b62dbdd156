"""The product library over the API."""

from ...models import Case, Environment, Product, Release, Requirement
from ...services import case_version_record
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

    def scope(self, queryset):
        return queryset.visible_to(self.request.user)


class EnvironmentViewSet(WriteViewSet):
    queryset = Environment.objects.select_related("product")
    serializer_class = EnvironmentSerializer
    filterset_fields = ["product", "product__slug", "is_active"]
    ordering_fields = ["name", "build"]

    def scope(self, queryset):
        return in_visible_products(queryset, self.request.user)


class RequirementViewSet(WriteViewSet):
    queryset = Requirement.objects.select_related("product")
    serializer_class = RequirementSerializer
    filterset_fields = ["product", "product__slug", "criticality", "key"]
    ordering_fields = ["key", "title", "criticality", "created_at"]

    def scope(self, queryset):
        return in_visible_products(queryset, self.request.user)


class CaseViewSet(WriteViewSet):
    """Cases with their steps. Each save that changes the text or the steps freezes a
    new version; executions keep the version they ran."""

    queryset = Case.objects.select_related("product").prefetch_related("steps", "requirements")
    serializer_class = CaseSerializer
    filterset_fields = ["product", "product__slug", "status", "priority", "key", "requirements"]
    ordering_fields = ["key", "title", "priority", "status", "updated_at"]

    def scope(self, queryset):
        return in_visible_products(queryset, self.request.user)

    def after_save(self, obj) -> None:
        case_version_record(case=obj, actor=self.request.user)
        obj.refresh_from_db(fields=["version"])
