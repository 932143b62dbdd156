"""Waivers of a release: stakeholders accept open defects with known risk, until a date."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..models import Defect, Waiver
from ..policy import can_waive, policy_require
from ..services import waiver_expiry_problem, waiver_grant, waiver_revoke
from .audit import release_for_audit
from .forms import CalendarDateField, service_error_add


class WaiverForm(forms.Form):
    reason = forms.CharField(
        label="Why may the release ship with this defect?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    expires_on = CalendarDateField(
        label="Waived until (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day < timezone.localdate():
            raise ValidationError("Choose today or a later day.")
        problem = waiver_expiry_problem(self._end_of(day))
        if problem:
            raise ValidationError(problem)
        return day

    def expires_at(self) -> dt.datetime:
        return self._end_of(self.cleaned_data["expires_on"])

    @staticmethod
    def _end_of(day: dt.date) -> dt.datetime:
        # The waiver holds through the whole chosen day, in the site's time zone.
        return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


def _page(request, release, form_for: dict | None = None, status: int = 200):
    now = timezone.now()
    waivers = list(
        Waiver.objects.filter(release=release)
        .select_related("defect", "granted_by")
        .order_by("-created_at")
    )
    active = {w.defect_id for w in waivers if w.revoked_at is None and w.expires_at > now}
    defects = [
        d
        for d in Defect.objects.filter(release=release).open().order_by("severity", "pk")
        if d.pk not in active
    ]
    forms_by_defect = form_for or {}
    rows = [(d, forms_by_defect.get(d.pk) or WaiverForm(prefix=f"d{d.pk}")) for d in defects]
    context = {
        "release": release,
        "rows": rows,
        "waivers": waivers,
        "now": now,
        "can_waive": can_waive(request.user, release),
    }
    return render(request, "uat/waivers.html", context, status=status)


@login_required
def release_waivers(request, release_id: int):
    """The open defects of the release and its waivers, for QA leads and stakeholders."""
    return _page(request, release_for_audit(request.user, release_id))


@login_required
@require_POST
def waiver_create(request, release_id: int, defect_id: int):
    release = release_for_audit(request.user, release_id)
    policy_require(can_waive(request.user, release), "waive")
    defect = get_object_or_404(Defect, pk=defect_id, release=release)
    form = WaiverForm(request.POST, prefix=f"d{defect.pk}")
    if form.is_valid():
        try:
            waiver_grant(
                defect=defect,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                expires_at=form.expires_at(),
            )
        except ValidationError as error:
            service_error_add(form, error)
        else:
            messages.success(request, f"{defect.reference} is waived for {release}.")
            return redirect("uat:release_waivers", release_id=release.pk)
    return _page(request, release, {defect.pk: form}, status=400)


@login_required
@require_POST
def waiver_end(request, release_id: int, waiver_id: int):
    release = release_for_audit(request.user, release_id)
    policy_require(can_waive(request.user, release), "waive")
    waiver = get_object_or_404(Waiver, pk=waiver_id, release=release)
    try:
        waiver_revoke(waiver=waiver, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The waiver of {waiver.defect.reference} is revoked.")
    return redirect("uat:release_waivers", release_id=release.pk)
