"""Forms of the sign-in pages and of beta invitations."""

import math

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils import timezone

from uat.models import Cohort

from .mail import email_send
from .models import email_normalize


class ThrottledSignInMixin:
    """Refuses sign-in for a while after repeated failures for one email address (and,
    when LOGIN_MAX_FAILURES_PER_IP is set, from one address on the network). The message
    is the same whether or not an account exists for the address."""

    def clean(self):
        from . import services

        email, ip = self.cleaned_data.get("username") or "", client_ip(self.request)
        until = services.login_locked_until(email=email, ip=ip)
        if until is not None:
            raise _locked_out(until)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.user_cache is None:  # a wrong address or password, not a refused user
                until = services.login_failure_record(email=email, ip=ip)
                if until is not None:
                    raise _locked_out(until) from None
            raise
        if self.user_cache is not None:
            services.login_success_record(user=self.user_cache, ip=ip)
        return cleaned


def client_ip(request) -> str | None:
    """The network address of whoever sent ``request``: REMOTE_ADDR, or behind
    TRUSTED_PROXY_COUNT proxies the address the outermost trusted one saw (each proxy
    appends the address it saw to X-Forwarded-For; what the client wrote comes first and
    is never believed)."""
    if request is None:
        return None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if proxies > 0 and len(forwarded) >= proxies and forwarded[-proxies]:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def _locked_out(until) -> forms.ValidationError:
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    return forms.ValidationError(
        "Too many failed sign-ins for this email address. Try again in %(minutes)d "
        "minute(s), or reset your password.",
        code="locked_out",
        params={"minutes": minutes},
    )


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    """The testers' sign-in form."""


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in form, under the same lockout."""


class GreenlightPasswordResetForm(PasswordResetForm):
    """Django's reset form, finding the account by the one normal form of addresses and
    sending its email through Greenlight's one email helper."""

    def get_users(self, email):
        from .models import User

        for user in User.objects.by_email(email).filter(is_active=True):
            if user.has_usable_password():
                yield user

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        email_send(name="password_reset", context=context, to=[to_email])


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address of the tester")
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.none(), label="Beta cohort", empty_label=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The cohorts an invitee, who joins as an external tester, may join.
        self.fields["cohort"].queryset = Cohort.objects.filter(
            kind=Cohort.Kind.taking(external=True)
        ).select_related("product")


class InviteTestersForm(forms.Form):
    emails = forms.CharField(
        label="Email addresses",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One address per line (commas work too).",
    )

    def clean_emails(self) -> list[str]:
        raw = self.cleaned_data["emails"].replace(",", "\n").split()
        emails = sorted({email_normalize(email) for email in raw if email.strip()})
        field = forms.EmailField()
        for email in emails:
            field.clean(email)
        return emails


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(
        label="Your name", max_length=150, help_text="As your colleagues know you."
    )
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Type the password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            from .models import User

            candidate = User(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


# Two-factor authentication.
def _code_field(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=32,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "size": 12,
            }
        ),
    )


def _password_field() -> forms.CharField:
    return forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TwoFactorCodeForm(forms.Form):
    """The code step of signing in: a code from the authenticator app, or a backup code."""

    code = _code_field(
        "Code", "The 6 digits your authenticator app shows now, or one of your backup codes."
    )

    def __init__(self, *args, user, request, purpose: str = "sign_in", **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.request, self.purpose = user, request, purpose
        self.device = None
        if purpose == "sign_in":  # the only field of its page
            self.fields["code"].widget.attrs["autofocus"] = True

    def clean_code(self) -> str:
        from . import services

        code = self.cleaned_data["code"]
        self.device = services.two_factor_verify(
            user=self.user, code=code, ip=client_ip(self.request), purpose=self.purpose
        )
        return code


class PasswordCheckMixin:
    """Asks for the user's password again before a change to how they sign in. A wrong
    one counts as a failed sign-in, under the same lockout."""

    def clean_password(self) -> str:
        from . import services

        password = self.cleaned_data["password"]
        email, ip = self.user.email, client_ip(self.request)
        until = services.login_locked_until(email=email, ip=ip)
        if until is not None:
            raise _locked_out(until)
        if not self.user.check_password(password):
            until = services.login_failure_record(email=email, ip=ip)
            if until is not None:
                raise _locked_out(until)
            raise forms.ValidationError("That is not your password.", code="invalid_password")
        return password


class TwoFactorChangeForm(PasswordCheckMixin, TwoFactorCodeForm):
    """Confirms a change (new backup codes, turning two-factor off) with the password
    and a current code: a signed-in browser left open is not enough."""

    password = _password_field()
    field_order = ("password", "code")

    def clean_code(self) -> str:
        if "password" in self._errors:  # no code is used up while the password is wrong
            return self.cleaned_data["code"]
        return super().clean_code()


class TwoFactorEnrolForm(PasswordCheckMixin, forms.Form):
    """The first code of a new authenticator app, which confirms it was set up right.
    Someone replacing an authenticator also gives their password."""

    code = _code_field("Code from the app", "The 6 digits the app shows for Greenlight.")
    password = _password_field()
    field_order = ("password", "code")

    def __init__(self, *args, user, request, replacing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.request = user, request
        self.fields["code"].widget.attrs["inputmode"] = "numeric"
        if not replacing:
            del self.fields["password"]
