"""Forms of the QA lead's admin: checks that span a case and its steps, a plan and its
scope, a cohort and its members, and the input of the plan actions."""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User

from .models import Case, CaseStep, Cohort, Defect, Plan, Release, Requirement
from .models.catalog import CaseStatus, Priority
from .services import defect_record, defect_report_escaped


def _other_product(rows, product_id: int, label) -> list[str]:
    return sorted(label(row) for row in rows if row.product_id != product_id)


class CaseAdminForm(forms.ModelForm):
    """The case form of the admin, which names the model and fields."""

    def clean(self):
        cleaned = super().clean()
        product, requirements = cleaned.get("product"), cleaned.get("requirements")
        if product and requirements:
            stray = _other_product(requirements, product.pk, lambda row: row.key)
            if stray:
                self.add_error(
                    "requirements", f"Not requirements of {product}: {', '.join(stray)}."
                )
        return cleaned


class CaseStepForm(forms.ModelForm):
    """One step of a case. Its order number only says where the step goes: the formset
    numbers the steps 1, 2, 3... on save, so the saved positions have no gaps or
    duplicates whatever was typed. Its uniqueness is therefore not checked per row."""

    position = forms.IntegerField(
        label="Order",
        min_value=1,
        max_value=999,
        required=False,
        help_text="Steps are numbered 1, 2, 3… in this order when saved. Type a number "
        "to move a step there; leave it empty to put a new step last.",
    )

    class Meta:
        model = CaseStep
        fields = ("position", "action", "expected")
        # The steps table's headers are no labels: each field names itself.
        widgets = {
            "action": forms.Textarea(attrs={"rows": 3, "aria-label": "Action"}),
            "expected": forms.Textarea(attrs={"rows": 3, "aria-label": "Expected result"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].widget.attrs["aria-label"] = "Order"

    def has_changed(self) -> bool:
        # The page numbers every row, the empty one for a new step included: a new row
        # holding only its number is still empty.
        if self.instance.pk is None:
            return any(name != "position" for name in self.changed_data)
        return super().has_changed()

    def validate_constraints(self):
        exclude = self._get_validation_exclusions() | {"position"}
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)


# Where a step whose order number is empty goes: after every numbered one.
LAST = 10_000


class CaseStepFormSet(forms.BaseInlineFormSet):
    """The steps of a case. A ready case is what testers run, so it keeps at least one
    step; checking here shows the problem on the form instead of failing the save.

    The kept steps are numbered 1..n by the order typed, into ``ordered_steps``, which
    the admin saves: a step given a number goes there, ahead of one that had it."""

    ordered_steps: list[CaseStep] = []

    @staticmethod
    def _rank(pair) -> tuple[int, int, int]:
        # By the number typed; of two with the same number the one given it now (moved
        # there, or a new step put there) comes first; then the order shown.
        index, form = pair
        moved = "position" in form.changed_data
        return (form.cleaned_data.get("position") or LAST, 0 if moved else 1, index)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["aria-label"] = "Delete this step"

    def validate_unique(self):
        # The one unique rule of a step is its (case, position), and positions are given
        # here, not taken as typed: two rows typed with the same number are no error.
        return None

    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and (form.instance.pk or form.has_changed())
        ]
        if self.instance.status == Case.Status.READY and not kept:
            raise ValidationError("A ready case needs at least one step.")
        ranked = sorted(enumerate(kept), key=self._rank)
        self.ordered_steps = []
        for number, (_, form) in enumerate(ranked, start=1):
            form.instance.position = number
            self.ordered_steps.append(form.instance)


class PlanAdminForm(forms.ModelForm):
    """The plan form of the admin, which names the model and fields. The scope (its
    cases) is saved by the admin through ``plan_scope_change``, not with the other
    many-to-many fields."""

    def _save_m2m(self):
        if "cases" not in self.cleaned_data:
            return super()._save_m2m()
        cases = self.cleaned_data.pop("cases")
        try:
            return super()._save_m2m()
        finally:
            self.cleaned_data["cases"] = cases

    def clean(self):
        cleaned = super().clean()
        release = cleaned.get("release")
        if release is None:
            return cleaned
        product_id = release.product_id
        stray_cases = _other_product(cleaned.get("cases") or [], product_id, lambda c: c.key)
        if stray_cases:
            self.add_error("cases", f"Not cases of {release.product}: {', '.join(stray_cases)}.")
        cohorts = list(cleaned.get("cohorts") or [])
        stray_cohorts = _other_product(cohorts, product_id, lambda c: c.name)
        if stray_cohorts:
            self.add_error(
                "cohorts", f"Not cohorts of {release.product}: {', '.join(stray_cohorts)}."
            )
        stage = cleaned.get("stage")
        wrong_kind = sorted(c.name for c in cohorts if stage and c.kind != stage)
        if wrong_kind:
            self.add_error(
                "cohorts",
                f"A {stage} plan is run by {stage} cohorts; not {', '.join(wrong_kind)}.",
            )
        return cleaned


def signoff_role_problems(*, plan, signers, actor) -> list[str]:
    """What a form naming ``signers`` of a required sign-off of ``plan`` shows before
    saving: the policy's refusal of ``actor``, then why any signer cannot be named. The
    service (``signoff_role_configure``) checks the same again when it saves."""
    from .policy import REFUSALS, can_configure_signoffs
    from .services.signers import signers_problems

    if plan is not None and not can_configure_signoffs(actor, plan):
        return [REFUSALS["configure_signoffs"]]
    return signers_problems(signers=signers, actor=actor)


class PlanSignoffRoleForm(forms.ModelForm):
    """A required sign-off role and its signers, in the admin (its own page and the plan's
    inline). ``actor`` is the person saving; saving goes through the service."""

    actor = None

    class Meta:
        fields = ("plan", "role", "signers")

    def clean(self):
        cleaned = super().clean()
        if not self.has_changed() or self.actor is None:
            return cleaned
        plan = cleaned.get("plan") or getattr(self.instance, "plan", None)
        problems = signoff_role_problems(
            plan=plan, signers=cleaned.get("signers") or [], actor=self.actor
        )
        if problems:
            self.add_error("signers", problems)
        return cleaned


class PlanSignoffRoleFormSet(forms.BaseInlineFormSet):
    """The required sign-offs of a plan, checked as submitted: a removal is the same act
    as a change, refused to whoever may not name the plan's signers."""

    actor = None

    def clean(self):
        super().clean()
        if self.actor is None:
            return
        from .policy import REFUSALS, can_configure_signoffs

        removing = any(form in self.deleted_forms and form.instance.pk for form in self.forms)
        if removing and not can_configure_signoffs(self.actor, self.instance):
            raise ValidationError(REFUSALS["configure_signoffs"])


class CohortMembershipFormSet(forms.BaseInlineFormSet):
    """The members of a cohort, checked against the cohort as submitted.

    ``CohortMembership.clean`` asks the same ``Cohort.member_error`` of the saved cohort:
    it skips a cohort being added (no id yet) and misses a kind being changed on this
    very form, so the formset asks it of the cohort on the form.
    """

    def clean(self):
        super().clean()
        for form in self.forms:
            user = form.cleaned_data.get("user") if form.cleaned_data else None
            if user is None or form.cleaned_data.get("DELETE"):
                continue
            if error := self.instance.member_error(user):
                form.add_error("user", error)


class PlanAssignForm(forms.Form):
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.none(), help_text="One of the plan's cohorts."
    )
    testers_per_case = forms.IntegerField(
        min_value=1,
        initial=1,
        help_text="How many of the cohort's testers run each case; more than one gives "
        "the distinct testers a critical case may need.",
    )

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        cohorts = self.fields["cohort"]
        cohorts.queryset = plan.cohorts.order_by("name")
        if len(cohorts.queryset) == 1:
            cohorts.initial = cohorts.queryset[0].pk


class ExecutionReassignForm(forms.Form):
    """Whom executions nobody has started go to: one tester of their cohort, or, left
    empty, the cohort's least-loaded testers, one execution at a time."""

    tester = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="New tester",
        empty_label="Spread over the cohort, least-loaded first",
        help_text="An active tester of the executions' cohort who does not hold the case yet.",
    )

    def __init__(self, *args, executions, **kwargs):
        super().__init__(*args, **kwargs)
        cohorts = {execution.cohort_id for execution in executions}
        self.fields["tester"].queryset = (
            User.objects.filter(is_active=True, memberships__cohort__in=cohorts)
            .distinct()
            .order_by("full_name", "email")
        )


class PlanCloneForm(forms.Form):
    release = forms.ModelChoiceField(
        queryset=Release.objects.none(),
        help_text="A release of the same product without a plan for this stage yet. "
        "The clone starts as a draft with the scope, cohorts, criteria, stakeholders and "
        "sign-off roles of this plan, and no executions.",
    )

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["release"].queryset = (
            Release.objects.filter(product_id=plan.release.product_id)
            .exclude(plans__stage=plan.stage)
            .select_related("product")
        )


class DefectFixForm(forms.Form):
    """The admin's *Mark as fixed*: which build has the fix, and why."""

    fixed_in_build = forms.CharField(
        label="Fixed in build",
        required=False,
        max_length=100,
        help_text="The build with the fix; the retests run on it. Needed while the UAT "
        "environment still runs the build that failed (or update the environment first).",
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The reporter reads it in the defect's history.",
    )


class DefectAdminForm(forms.ModelForm):
    """The defect form of the admin. A new defect is recorded by its service, once the
    form is otherwise valid: ``defect_report_escaped`` for one found in production,
    ``defect_record`` for one found in UAT. Their refusals become this form's errors, and
    the admin adopts the defect the service made (``self.defect``). The admin's page runs
    in one transaction, so a defect made here never outlives a refused request.

    ``actor`` is set on the class by ``DefectAdmin.get_form``."""

    actor = None
    defect: Defect | None = None

    def full_clean(self):
        super().full_clean()
        if self.is_bound and self.instance.pk is None and not self.errors:
            # The services ask the policy (``can_log_defect``, ``can_report_escaped_defect``)
            # of whoever holds the admin's add permission; a refusal is the form's error.
            try:
                self.defect = self._record()
            except PermissionDenied as refusal:
                self.add_error(None, str(refusal))
            except ValidationError as error:
                self._refused(error)

    def _record(self) -> Defect:
        data = self.cleaned_data
        common = {
            "release": data["release"],
            "actor": self.actor,
            "title": data["title"],
            "severity": data["severity"],
            "steps_to_reproduce": data.get("steps_to_reproduce", ""),
            "build": data.get("build", ""),
            "external_key": data.get("external_key", ""),
            "external_url": data.get("external_url", ""),
        }
        if data.get("found_in") != Defect.FoundIn.PRODUCTION:
            return defect_record(
                **common,
                executions=data.get("executions") or (),
                step_position=data.get("step_position"),
                environment=data.get("environment"),
            )
        # What production saw has no UAT run to link, nor a step or a UAT environment.
        uat_only = {
            name: "A defect found in production has no UAT executions, step or environment."
            for name in ("executions", "step_position", "environment")
            if data.get(name)
        }
        if uat_only:
            raise ValidationError(uat_only)
        return defect_report_escaped(**common)

    def _refused(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class PlanScopeFilterForm(forms.Form):
    """The filters of a plan's case picker: which cases of the plan's product to show."""

    requirement = forms.ModelChoiceField(
        queryset=Requirement.objects.none(), required=False, empty_label="Any requirement"
    )
    priority = forms.ChoiceField(required=False, choices=[("", "Any priority"), *Priority.choices])
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *CaseStatus.choices])
    q = forms.CharField(label="Key or title contains", required=False, max_length=100, strip=True)

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        self.fields["requirement"].queryset = product.requirements.order_by("key")
        self.fields["requirement"].label_from_instance = lambda r: f"{r.key} {r.title}"

    def cases(self):
        """The product's cases these filters match, by key, or None when a filter is
        not one the form offers."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return (
            Case.objects.filter(product=self.product)
            .matching(
                requirement=data["requirement"],
                priority=data["priority"],
                status=data["status"],
                text=data["q"],
            )
            .order_by("key")
        )
