"""Primary keys in request bodies and filters, scoped to what the caller may see.

An id the caller may not see answers exactly as an id that does not exist — the same
status, the same message — so nobody learns what exists by guessing ids. Request bodies
name records with ``VisiblePrimaryKeyRelatedField`` (``ApiModelSerializer`` uses it for
every related field); list filters on a related record compare ids within the rows the
caller sees (``ScopedFilterBackend``), so a foreign id finds nothing, as an unknown one
does."""

from django import forms
from django.db import models
from django.db.models.fields.related import ManyToManyRel, ManyToOneRel, OneToOneRel
from django_filters import NumberFilter
from django_filters.rest_framework import DjangoFilterBackend, FilterSet
from rest_framework import serializers

from .scopes import nameable


class VisiblePrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record by id, among those the requesting user may see (none without a
    request in the context)."""

    default_error_messages = {
        "does_not_exist": 'No such record: "{pk_value}" does not exist or is not yours to see.',
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return nameable(queryset, request.user)


class ApiModelSerializer(serializers.ModelSerializer):
    serializer_related_field = VisiblePrimaryKeyRelatedField


class IdField(forms.IntegerField):
    """An id as the database holds it (a positive bigint): a number beyond is a 400
    before any query, not a database error mid-transaction."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IdFilter(NumberFilter):
    field_class = IdField


_RELATIONS = (
    models.ForeignKey,
    models.OneToOneField,
    models.ManyToManyField,
    ManyToOneRel,
    OneToOneRel,
    ManyToManyRel,
)


class ScopedFilterSet(FilterSet):
    """A filter on a related record takes a number and compares ids: the rows listed are
    already the caller's, so an id they may not see matches nothing, like an unknown id
    — instead of "not one of the available choices" for the one and an empty page for
    the other."""

    FILTER_DEFAULTS = {
        **FilterSet.FILTER_DEFAULTS,
        **{relation: {"filter_class": IdFilter} for relation in _RELATIONS},
    }


class ScopedFilterBackend(DjangoFilterBackend):
    filterset_base = ScopedFilterSet
