"""The audit trail of a release, for QA leads and its stakeholders: filter, page, export."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from reports.evidence_packages import evidence_package_request
from reports.models import EvidencePackage, ReportStatus

from ..downloads import download_filename_of
from ..models import Event, Release
from ..policy import audit_releases, can_build_evidence_package, policy_require
from ..tables import AUDIT_EVENTS, csv_response
from .forms import CalendarDateField

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    verb = forms.CharField(required=False, label="Action contains")
    actor = forms.CharField(required=False, label="Person (name or email)")
    kind = forms.ChoiceField(required=False, label="Record type")
    since = CalendarDateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = CalendarDateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Any"), *kinds]

    def filter(self, events):
        if not self.is_valid():
            return events
        data = self.cleaned_data
        if data["verb"]:
            events = events.filter(verb__icontains=data["verb"])
        if data["actor"]:
            events = events.filter(
                Q(actor__full_name__icontains=data["actor"])
                | Q(actor__email__icontains=data["actor"])
            )
        if data["kind"]:
            events = events.filter(content_type__model=data["kind"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            events = events.filter(
                created_at__gte=dt.datetime.combine(data["since"], dt.time(), zone)
            )
        if data["until"]:
            end = dt.datetime.combine(data["until"] + dt.timedelta(days=1), dt.time(), zone)
            events = events.filter(created_at__lt=end)
        return events


def release_for_audit(user, release_id: int) -> Release:
    """The release, if ``user`` is a QA lead or one of its stakeholders; else 404."""
    return get_object_or_404(audit_releases(user).select_related("product"), pk=release_id)


@login_required
def release_audit(request, release_id: int):
    """Every event of the release, newest first, with filters and a CSV export."""
    release = release_for_audit(request.user, release_id)
    events = Event.objects.filter(release=release).select_related("actor", "content_type")
    kinds = sorted(
        {
            (ct.model, ct.name)
            for ct in ContentType.objects.filter(
                pk__in=Event.objects.filter(release=release).values("content_type")
            )
        }
    )
    form = AuditFilterForm(request.GET or None, kinds=kinds)
    events = form.filter(events).order_by("-created_at", "-id")
    if request.GET.get("format") == "csv":
        rows = events.iterator(chunk_size=2000)
        return csv_response(AUDIT_EVENTS, rows, "audit", release.product.slug, release.version)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    packages = EvidencePackage.objects.filter(release=release).select_related("requested_by")[:5]
    context = {
        "release": release,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "packages": packages,
        "can_build": can_build_evidence_package(request.user, release),
    }
    return render(request, "uat/audit.html", context)


@login_required
@require_POST
def evidence_package_create(request, release_id: int):
    """Queue an evidence package of the release (or find the one being built), then show
    the audit page."""
    release = release_for_audit(request.user, release_id)
    policy_require(can_build_evidence_package(request.user, release), "build_evidence_package")
    package, created = evidence_package_request(release=release, actor=request.user)
    if package.error:  # the job queue could not take it: the note says when it will be
        messages.warning(request, package.error)
    elif created:
        messages.success(request, "Building the evidence package; it is listed below when ready.")
    else:
        messages.info(
            request,
            "An evidence package of this release is being built already; "
            "it is listed below when ready.",
        )
    return redirect("uat:release_audit", release_id=release.pk)


@login_required
def evidence_package_download(request, package_uuid):
    """The zip, for the people who may see its release's audit trail."""
    package = get_object_or_404(
        EvidencePackage.objects.select_related("release"),
        uuid=package_uuid,
        status=ReportStatus.READY,
    )
    release_for_audit(request.user, package.release_id)
    response = FileResponse(
        package.file.open("rb"),
        as_attachment=True,
        filename=download_filename_of(package.file.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
