"""Forms of the tester pages."""

import datetime as dt
import uuid

from django import forms
from django.core.exceptions import ValidationError

from ..models import Cohort, DefectStatus, Release, Severity


def service_error_add(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on ``form``: by the field it names when the form has
    that field, above the form otherwise."""
    if hasattr(error, "error_dict"):
        for field, texts in error.message_dict.items():
            form.add_error(field if field in form.fields else None, texts)
    else:
        form.add_error(None, error.messages)


class CalendarDateField(forms.DateField):
    """A date of this or a nearby millennium: a day's start and end (and the next day)
    stay dates Python and the database can hold, so 9999-12-31 or 0001-01-01 is refused
    with a message instead of overflowing into a server error."""

    earliest, latest = dt.date(1900, 1, 1), dt.date(2999, 12, 31)

    def validate(self, value):
        super().validate(value)
        if value and not self.earliest <= value <= self.latest:
            raise ValidationError(
                f"Choose a date between {self.earliest.year} and {self.latest.year}.",
                code="date_range",
            )


class DefectMoveForm(forms.Form):
    """What a QA lead types when moving a defect; the status is the button pressed."""

    note = forms.CharField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why: the reporter reads it in the defect's history.",
    )
    fixed_in_build = forms.CharField(
        label="Fixed in build",
        required=False,
        max_length=100,
        help_text="When marking it fixed: the build with the fix, which the retests run "
        "on. Needed while the UAT environment still runs the build that failed.",
    )


class DefectCommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Write a comment first."},
    )


class DefectReportForm(forms.Form):
    title = forms.CharField(label="Title", max_length=300)
    severity = forms.ChoiceField(
        label="Severity",
        choices=[("", "Choose how bad it is…"), *Severity.choices],
        help_text="Critical: blocks the business; major: a main function is wrong; "
        "minor: a workaround exists; trivial: cosmetic.",
    )
    steps_to_reproduce = forms.CharField(
        label="Steps to reproduce", widget=forms.Textarea(attrs={"rows": 10})
    )
    file = forms.FileField(
        label="Screenshot or file (optional)",
        required=False,
        help_text="PNG, JPEG, PDF or plain text. It is added to the evidence of this run.",
    )
    # Names this submission: sent twice (a double click), it is one defect.
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission", uuid.uuid4().hex)


class DefectFilterForm(forms.Form):
    severity = forms.ChoiceField(
        label="Severity", choices=[("", "Any"), *Severity.choices], required=False
    )
    status = forms.ChoiceField(
        label="Status", choices=[("", "Any"), *DefectStatus.choices], required=False
    )
    release = forms.ModelChoiceField(
        label="Release",
        queryset=Release.objects.select_related("product"),
        required=False,
        empty_label="Any",
    )
    cohort = forms.ModelChoiceField(
        label="Cohort",
        queryset=Cohort.objects.select_related("product"),
        required=False,
        empty_label="Any",
    )

    def filter(self, defects):
        if not self.is_valid():
            return defects
        data = self.cleaned_data
        if data["severity"]:
            defects = defects.filter(severity=data["severity"])
        if data["status"]:
            defects = defects.filter(status=data["status"])
        if data["release"]:
            defects = defects.filter(release=data["release"])
        if data["cohort"]:
            defects = defects.filter(executions__cohort=data["cohort"]).distinct()
        return defects
