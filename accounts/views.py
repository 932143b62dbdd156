"""Getting in: sign in and out (with the two-factor code step and its set-up), reset a
forgotten password, accept a beta invitation, and the QA lead's page to invite beta
testers."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from uat.policy import can_invite
from uat.services import invitations

from . import services, two_factor
from .forms import (
    GreenlightPasswordResetForm,
    InvitationAcceptForm,
    InvitationForm,
    SignInForm,
    TwoFactorChangeForm,
    TwoFactorCodeForm,
    TwoFactorEnrolForm,
    client_ip,
)
from .models import Invitation
from .navigation import safe_next

BACKUP_CODES_SESSION_KEY = "greenlight_backup_codes"


class SignInView(auth_views.LoginView):
    """The testers' sign-in. The password is the first step; a sign-in that owes the
    code step (or an enrolment) goes straight there, carrying where it was going."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        return safe_next(self.request)

    def get_success_url(self) -> str:
        url = super().get_success_url()
        step = two_factor.pending_step(self.request)
        if step == two_factor.NOTHING:
            return url
        return _with_next(reverse(two_factor.STEP_VIEWS[step]), url)


login_view = SignInView.as_view()


class SignOutView(auth_views.LogoutView):
    def get_redirect_url(self) -> str:
        return safe_next(self.request)


logout_view = SignOutView.as_view()
password_reset = auth_views.PasswordResetView.as_view(
    template_name="accounts/password_reset_form.html",
    form_class=GreenlightPasswordResetForm,
    success_url=reverse_lazy("accounts:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password from a reset link, which proves the mailbox is theirs: it
    lifts the sign-in lockout of the address (the lockout message points here)."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_reset_record(user=form.user, ip=client_ip(self.request))
        return response


password_reset_confirm = PasswordResetConfirmView.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


@never_cache
@sensitive_post_parameters("password1", "password2")
def invitation_accept(request, secret: str):
    """The invitee's landing page: choose a name and password, then go to the inbox.
    A link that cannot be used explains why instead."""
    invitation = invitations.invitation_find(secret)
    problem = invitations.invitation_problem(invitation)
    if problem:
        status = 404 if invitation is None else 410
        return render(
            request, "accounts/invitation_invalid.html", {"problem": problem}, status=status
        )
    form = InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.invitation_accept(
                secret=secret,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            if getattr(error, "code", None) == "invitation":
                context = {"problem": error.messages[0]}
                return render(request, "accounts/invitation_invalid.html", context, status=410)
            form.add_error(None, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.get_short_name()}! Here is your work.")
            return redirect("uat:inbox")
    context = {"form": form, "invitation": invitation}
    return render(request, "accounts/invitation_accept.html", context)


@login_required
def invitation_new(request):
    """A QA lead invites an email address into a beta cohort."""
    if not can_invite(request.user):
        raise Http404
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.invitation_send(
                email=form.cleaned_data["email"],
                cohort=form.cleaned_data["cohort"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"Invitation sent to {invitation.email} for {invitation.cohort.name}."
            )
            return redirect("accounts:invitation_new")
    recent = Invitation.objects.select_related("cohort", "invited_by")[:20]
    return render(request, "accounts/invitation_new.html", {"form": form, "recent": recent})


# Two-factor authentication.
def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _next_url(request) -> str:
    """Where to go once a step is done: the page asked for, if it is ours."""
    return safe_next(request)


@never_cache
@sensitive_post_parameters("code")
def two_factor_verify(request):
    """The code step of signing in, on the testers' page and the admin alike."""
    if not request.user.is_authenticated:
        return redirect(_with_next(resolve_url(settings.LOGIN_URL), request.get_full_path()))
    next_url = _next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL)
    if request.user.is_verified():
        return redirect(next_url)
    if two_factor.confirmed_device(request.user) is None:
        # Nothing to verify (an administrator reset it meanwhile): the gate sends the
        # sign-in on to enrol where the role requires it.
        two_factor.session_step_set(request, request.user)
        return redirect(next_url)
    form = TwoFactorCodeForm(request.POST or None, user=request.user, request=request)
    if request.method == "POST" and form.is_valid():
        otp_login(request, form.device)
        request.session.cycle_key()  # a sign-in that gained a factor gets a new session id
        if isinstance(form.device, StaticDevice):
            left = StaticToken.objects.filter(device_id=form.device.pk).count()
            messages.warning(
                request,
                f"You signed in with a backup code; {left} left. Make new ones under "
                "Account security when you run low.",
            )
        return redirect(next_url)
    context = {"form": form, "next": _next_url(request)}
    return render(request, "accounts/two_factor_verify.html", context)


@login_required
@never_cache
def security(request):
    """Account security: whether two-factor is on, and the controls to set it up,
    make new backup codes or turn it off."""
    return _security_page(request)


def _security_page(request, forms: dict | None = None, status: int = 200):
    user = request.user
    device = two_factor.confirmed_device(user)
    forms = forms or {}
    context = {
        "device": device,
        "required": two_factor.is_required(user),
        "backup_codes_left": StaticToken.objects.filter(device__user=user).count(),
        "codes_form": forms.get("codes") or _change_form(request, "codes", bound=False),
        "disable_form": forms.get("disable") or _change_form(request, "disable", bound=False),
    }
    return render(request, "accounts/security.html", context, status=status)


@login_required
@never_cache
@sensitive_post_parameters("code", "password")
def two_factor_setup(request):
    """Set up an authenticator app: scan the QR code (or type the secret), then enter
    the code it shows, which confirms it. Then the backup codes, once."""
    user = request.user
    replacing = two_factor.confirmed_device(user) is not None
    device = services.two_factor_enrolment(user=user)
    form = TwoFactorEnrolForm(request.POST or None, user=user, request=request, replacing=replacing)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.two_factor_enable(
                user=user, device=device, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            device.refresh_from_db()
            otp_login(request, device)
            request.session.cycle_key()
            two_factor.session_step_set(request, user)
            request.session[BACKUP_CODES_SESSION_KEY] = codes
            messages.success(request, "Two-factor authentication is on.")
            return redirect(
                _with_next(reverse("accounts:two_factor_backup_codes"), _next_url(request))
            )
    context = {
        "form": form,
        "replacing": replacing,
        "qr_code": two_factor.qr_code_svg(device),
        "secret": two_factor.secret_text(device),
        "next": _next_url(request),
        "pending": two_factor.pending_step(request) == two_factor.ENROL,
    }
    return render(request, "accounts/two_factor_setup.html", context)


@login_required
@never_cache
def two_factor_backup_codes(request):
    """The backup codes just made, shown this once: the page forgets them as it shows
    them, and only their owner's sign-ins could ever see them."""
    codes = request.session.pop(BACKUP_CODES_SESSION_KEY, None)
    if not codes:
        messages.info(
            request, "Backup codes are shown only once, when they are made. Make new ones here."
        )
        return redirect("accounts:security")
    context = {"codes": codes, "next": _next_url(request) or reverse("accounts:security")}
    return render(request, "accounts/two_factor_backup_codes.html", context)


# The password-and-code forms of the security page, by prefix, and what each confirms.
CHANGE_PURPOSES = {"codes": "backup_codes", "disable": "disable"}


def _change_form(request, prefix: str, *, bound: bool = True) -> TwoFactorChangeForm:
    data = request.POST if bound else None
    return TwoFactorChangeForm(
        data, user=request.user, request=request, prefix=prefix, purpose=CHANGE_PURPOSES[prefix]
    )


def _nothing_to_change(request) -> bool:
    if two_factor.confirmed_device(request.user) is None:
        messages.info(request, "Two-factor authentication is not on.")
        return True
    return False


@login_required
@require_POST
@sensitive_post_parameters("codes-code", "codes-password")
def two_factor_backup_codes_regenerate(request):
    if _nothing_to_change(request):
        return redirect("accounts:security")
    form = _change_form(request, "codes")
    if not form.is_valid():
        return _security_page(request, forms={"codes": form}, status=400)
    request.session[BACKUP_CODES_SESSION_KEY] = services.two_factor_backup_codes_regenerate(
        user=request.user
    )
    messages.success(request, "New backup codes made; the old ones no longer work.")
    return redirect("accounts:two_factor_backup_codes")


@login_required
@require_POST
@sensitive_post_parameters("disable-code", "disable-password")
def two_factor_disable(request):
    if _nothing_to_change(request):
        return redirect("accounts:security")
    form = _change_form(request, "disable")
    if two_factor.is_required(request.user):  # refused before any code is used up
        messages.error(request, "Your role requires two-factor authentication; it stays on.")
        return _security_page(request, status=403)
    if not form.is_valid():
        return _security_page(request, forms={"disable": form}, status=400)
    try:
        services.two_factor_disable(user=request.user)
    except ValidationError as error:
        form.add_error(None, error)
        return _security_page(request, forms={"disable": form}, status=400)
    two_factor.session_step_set(request, request.user)
    messages.success(request, "Two-factor authentication is off.")
    return redirect("accounts:security")
