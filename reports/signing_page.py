"""The signing page of an acceptance report: a holder of a required sign-off role reads
the report's summary and the meaning of the signature, approves or rejects, and re-enters
their password. Everything else — authority, re-authentication, lockout, binding to the
report's fingerprint — is ``reports.signoffs.signoff_sign``'s job."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from reports.signoffs import AlreadySigned, SigningLocked, signoff_sign
from uat.downloads import attachment_header
from uat.models import PlanSignoffRole
from uat.policy import named_roles, sign_refusal
from uat.views.forms import service_error_add

from .currency import report_stale_reason, signers_changed_reason, signoffs_with_state
from .models import SignOff
from .services import report_html_signed, report_pdf
from .views import report_for


class SignForm(forms.Form):
    role = forms.ChoiceField(label="Sign as")
    decision = forms.ChoiceField(
        label="Your decision", choices=SignOff.Decision.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="Reason (required to reject)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    comment = forms.CharField(
        label="Comment (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm_no_go = forms.BooleanField(
        label="I approve this release although the report's decision is No-go (it fails "
        "acceptance criteria).",
        required=False,
    )
    password = forms.CharField(
        label="Your password, to confirm it is you signing",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, roles: list[PlanSignoffRole], no_go: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.role, r.get_role_display()) for r in roles]
        if not no_go:
            # Asked only of a No-go report; the signing service holds the rule.
            del self.fields["confirm_no_go"]


def _meanings(roles: list[PlanSignoffRole], refusals: dict[str, str]) -> list[dict]:
    return [
        {
            "label": role.get_role_display(),
            "approve": role.meaning_of(SignOff.Decision.APPROVE),
            "reject": role.meaning_of(SignOff.Decision.REJECT),
            "configured_by": role.configured_by,
            "configured_at": role.configured_at,
            "refusal": refusals.get(role.role, ""),
        }
        for role in roles
    ]


def _refusals(user, report, named: list[PlanSignoffRole]) -> dict[str, str]:
    """Why each role naming ``user`` cannot be signed on ``report``, by role: they
    configured it, or its signers changed after the report was built."""
    refusals = {}
    for role in named:
        reason = sign_refusal(user, role) or signers_changed_reason(report, role)
        if reason:
            refusals[role.role] = reason
    return refusals


@login_required
@require_http_methods(["GET", "POST"])
def report_sign(request, uuid):
    """Sign a report for a role one holds. Only a named signer of a required role of the
    report's plan gets the page (others who see the report get 403)."""
    report = report_for(request.user, uuid)
    named = list(
        named_roles(request.user, report.plan).select_related("configured_by").order_by("role")
    )
    if not named:
        raise PermissionDenied("You hold no sign-off role of this plan.")
    refusals = _refusals(request.user, report, named)
    roles = [role for role in named if role.role not in refusals]
    stale_reason = report_stale_reason(report) if report.is_ready else None
    no_go = report.decision == report.Decision.NO_GO
    form = SignForm(request.POST or None, roles=roles, no_go=no_go)
    if request.method == "POST" and roles and form.is_valid():
        data = form.cleaned_data
        try:
            signoff = signoff_sign(
                report=report,
                signer=request.user,
                role=data["role"],
                decision=data["decision"],
                password=data["password"],
                reason=data["reason"],
                comment=data["comment"],
                confirm_no_go=data.get("confirm_no_go", False),
            )
        except SigningLocked as locked:
            form.add_error(None, str(locked))
        except PermissionDenied as refused:
            form.add_error("role", str(refused))
        except AlreadySigned as signed:
            # A double click, or a second tab: the first signature stands.
            messages.info(request, signed.message)
            return redirect("reports:report", uuid=report.uuid)
        except ValidationError as error:
            service_error_add(form, error)
        else:
            messages.success(request, f"Signed: {signoff.meaning}.")
            return redirect("reports:report", uuid=report.uuid)
    context = {
        "report": report,
        "form": form,
        "signable": report.is_ready and stale_reason is None and bool(roles),
        "stale_reason": stale_reason,
        "refusals": list(refusals.values()),
        "meanings": _meanings(named, refusals),
        "failing": [c for c in report.criteria if not c.get("passed")],
        "no_go": no_go,
        "waivers": (report.metrics.get("defects") or {}).get("waivers", []),
    }
    # Named for roles they may not sign (separation of duties): the page says why.
    status = 403 if not roles and request.method == "POST" else 200
    return render(request, "reports/sign.html", context, status=status)


def signed_copy_html(report) -> str:
    """What the signed copy prints: the stored report, its sign-off lines printed again
    for the sign-offs so far, then the block of every sign-off with its state."""
    signoffs = signoffs_with_state(
        report.signoffs.select_related("report").order_by("signed_at", "pk")
    )
    block = render_to_string(
        "reports/_signoffs.html",
        {"report": report, "signoffs": signoffs, "printed_at": timezone.now(), "signed_copy": True},
    )
    return report_html_signed(report=report, signoffs=signoffs) + block


@login_required
@require_GET
def report_signed_pdf(request, uuid):
    """The signed copy: the report as built (its stored HTML, never changed) followed by
    the signature block of every sign-off so far, current or stale, printed now. The
    stored PDF stays as built; this copy is rendered on each request."""
    report = report_for(request.user, uuid)
    if not report.is_ready:
        raise Http404("This report is not ready.")
    pdf = report_pdf(html=signed_copy_html(report), report=report)
    plan = report.plan
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": attachment_header(
                "acceptance-report",
                plan.release.version,
                plan.stage,
                report.uuid.hex[:8],
                "signed",
                ext="pdf",
            )
        },
    )
