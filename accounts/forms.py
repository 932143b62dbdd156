"""Forms of the sign-in pages and of beta invitations."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm

from uat.mail import email_send
from uat.models import Cohort


class GreenlightPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending its email through Greenlight's one email helper."""

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
        self.fields["cohort"].queryset = Cohort.objects.filter(
            kind=Cohort.Kind.BETA
        ).select_related("product")


class InviteTestersForm(forms.Form):
    emails = forms.CharField(
        label="Email addresses",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One address per line (commas work too).",
    )

    def clean_emails(self) -> list[str]:
        raw = self.cleaned_data["emails"].replace(",", "\n").split()
        emails = sorted({email.strip().lower() for email in raw if email.strip()})
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
