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


def _users(queryset: QuerySet, user) -> QuerySet:
    # People are named by QA leads (owners, stakeholders, members); others only name
    # themselves.
    return queryset.filter(pk=user.pk)


def _reports(queryset: QuerySet, user) -> QuerySet:
    return queryset.filter(plan__release__in=Release.objects.with_results_for(user))


# What the caller may name by id, per model (the API's read scopes, as the viewsets use
# them). A model missing here is named by QA leads only.
_NAMEABLE = {
    "uat.product": lambda qs, user: qs.filter(pk__in=visible_products(user).values("pk")),
    # The releases of the products one sees: a support agent names the release a defect
    # escaped from among the releases of a product they know.
    "uat.release": lambda qs, user: in_visible_products(qs, user),
    "uat.environment": lambda qs, user: in_visible_products(qs, user),
    "uat.requirement": lambda qs, user: in_visible_products(qs, user),
    "uat.case": lambda qs, user: in_visible_products(qs, user),
    "uat.plan": lambda qs, user: qs.visible_to(user),
    "uat.cohort": lambda qs, user: cohorts_of(qs, user).distinct(),
    "uat.execution": lambda qs, user: qs.visible_to(user),
    "uat.defect": lambda qs, user: qs.visible_to(user),
    "uat.waiver": lambda qs, user: records_of_stake(qs, user, "release"),
    "accounts.user": _users,
    "reports.acceptancereport": _reports,
}


def nameable(queryset: QuerySet, user) -> QuerySet:
    """The rows of ``queryset`` that ``user`` may name by id in a request: exactly what
    they may see, so an id that exists but is not theirs to see answers as an id that
    does not exist at all (no existence oracle)."""
    if sees_everything(user):
        return queryset
    if not _internal(user) and queryset.model._meta.label_lower != "accounts.user":
        return queryset.none()
    scope = _NAMEABLE.get(queryset.model._meta.label_lower)
    return scope(queryset, user) if scope else queryset.none()
