"""What the API shows each caller, for the records without a ``visible_to`` of their own.

The library (products, environments, requirements, cases) is internal: QA leads see all
of it; other internal staff see the products of the releases and plans they can see;
external (beta) testers see none of it — they read the case version they run on their
own executions. Cohorts: leads all, others the cohorts they belong to (never an external
user). Sign-offs and audit events: leads all, stakeholders those of their releases.
"""

from django.db.models import Q, QuerySet

from ..access import sees_everything, stake_releases
from ..models import Plan, Product, Release


def _internal(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active) and (
        not user.is_external
    )


def visible_products(user) -> QuerySet:
    if sees_everything(user):
        return Product.objects.all()
    if not _internal(user):
        return Product.objects.none()
    releases = Release.objects.with_results_for(user).values("product_id")
    plans = Plan.objects.visible_to(user).values("release__product_id")
    return Product.objects.filter(Q(pk__in=releases) | Q(pk__in=plans))


def in_visible_products(queryset: QuerySet, user, path: str = "product") -> QuerySet:
    if sees_everything(user):
        return queryset
    return queryset.filter(**{f"{path}__in": visible_products(user).values("pk")})


def cohorts_of(queryset: QuerySet, user) -> QuerySet:
    if sees_everything(user):
        return queryset
    if not _internal(user):
        return queryset.none()
    return queryset.filter(memberships__user=user)


def records_of_stake(queryset: QuerySet, user, release_path: str) -> QuerySet:
    """Sign-offs or events: leads all; stakeholders those of their releases."""
    if sees_everything(user):
        return queryset
    if not _internal(user):
        return queryset.none()
    releases = Release.objects.filter(stake_releases(user)).values("pk")
    return queryset.filter(**{f"{release_path}__in": releases})
