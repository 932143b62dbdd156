"""User accounts in the admin, for an email-login user.

QA leads hold ``change_user`` so they can enrol testers, which must not let them grant
powers: for anyone but a superuser, the admin

* changes only plain accounts — not staff, not superusers, no roles beyond Tester and
  Release pipeline, no permissions of their own. Everyone else (other leads,
  stakeholders whose password guards their signature, admins, the lead themself) is
  view-only, password included;
* hides ``is_superuser`` and ``user_permissions`` and shows ``is_staff`` read-only;
* offers the Tester and Release pipeline roles as the only groups to give or take away.
  A pipeline reads gates and promotes releases, which a QA lead may do anyway, so a lead
  makes machine accounts without handing out new powers. Their API tokens are an
  administrator's to make (``accounts.policy``): a token acts as its owner.

Superusers see and change everything.

Two-factor devices have no admin pages of their own (django-otp's would show secrets
and backup codes): the user list says who has two-factor on, and administrators reset a
lost phone with the user action *Reset two-factor authentication*.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.template.defaultfilters import pluralize
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from uat.admin.base import GreenlightAdmin, ReadOnlyAdminMixin

from . import policy, services
from .models import ApiToken, Invitation, Role, User

for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)

# Fields only a superuser may see (hidden) or set (read-only) for others.
HIDDEN_FROM_LEADS = ("is_superuser", "user_permissions")
READ_ONLY_FOR_LEADS = ("is_staff",)
# The roles a QA lead may give or take away.
LEAD_GRANTABLE = (Role.TESTER.value, Role.PIPELINE.value)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "is_external", "groups")


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean(self):
        # Making someone external (or internal) must not leave them in a cohort that
        # takes the other kind of person.
        cleaned = super().clean()
        if "is_external" in self.changed_data and self.instance.pk:
            external = cleaned.get("is_external", False)
            refusals = sorted(
                f"{cohort.name}: {error}"
                for cohort in self.instance.cohorts.all()
                if (error := cohort.kind_error(external=external))
            )
            if refusals:
                self.add_error("is_external", refusals)
        return cleaned


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = (
        "email",
        "full_name",
        "roles",
        "two_factor",
        "is_external",
        "is_staff",
        "is_active",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "is_external", "groups")
    search_fields = ("email", "full_name")
    list_select_related = ()
    ordering = ("full_name", "email")
    readonly_fields = ("last_login", "date_joined", "two_factor")
    actions = ("reset_two_factor",)
    fieldsets = (
        (None, {"fields": ("email", "password", "two_factor")}),
        ("Person", {"fields": ("full_name", "is_external")}),
        (
            "Email",
            {"fields": ("receives_digests", "receives_reminders", "receives_defect_updates")},
        ),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "is_external",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
        ("Roles", {"fields": ("groups",)}),
    )

    def get_queryset(self, request):
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return (
            super()
            .get_queryset(request)
            .prefetch_related("groups")
            .annotate(has_two_factor=Exists(enrolled))
        )

    @admin.display(description="roles")
    def roles(self, user: User) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all()))

    @admin.display(description="two-factor", boolean=True)
    def two_factor(self, user: User) -> bool:
        return getattr(user, "has_two_factor", False)

    def has_reset_two_factor_permission(self, request) -> bool:
        # Administrators: resetting someone's second factor lets a password alone in.
        return request.user.has_perm("otp_totp.delete_totpdevice")

    @admin.action(
        permissions=["reset_two_factor"],
        description="Reset two-factor authentication (lost phone)",
    )
    def reset_two_factor(self, request, queryset):
        reset = [
            user.email
            for user in queryset
            if services.two_factor_reset(user=user, actor=request.user)
        ]
        names = f": {', '.join(reset)}." if reset else "."
        self.message_user(
            request,
            f"Reset two-factor authentication of {len(reset)} user{pluralize(len(reset))}{names}",
            messages.SUCCESS,
        )

    @staticmethod
    def is_plain(user: User) -> bool:
        """An account with no powers beyond testing or a pipeline's: what a QA lead may
        manage."""
        return (
            not user.is_staff
            and not user.is_superuser
            and not user.user_permissions.exists()
            and not user.groups.exclude(name__in=LEAD_GRANTABLE).exists()
        )

    def has_change_permission(self, request, obj=None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or request.user.is_superuser or self.is_plain(obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": _without(options["fields"], HIDDEN_FROM_LEADS)})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, *READ_ONLY_FOR_LEADS)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=LEAD_GRANTABLE).order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _without(fields, hidden) -> tuple:
    return tuple(field for field in fields if field not in hidden)


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name")


def token_owners_for(actor):
    """The accounts ``actor`` may make a token for (``accounts.policy``): themself, and
    for an administrator the machine accounts."""
    owners = [actor.pk]
    if policy.is_administrator(actor):
        candidates = User.objects.with_role(Role.PIPELINE).filter(is_active=True)
        owners += [user.pk for user in candidates if policy.is_machine_account(user)]
    return User.objects.filter(pk__in=owners)


@admin.register(ApiToken)
class ApiTokenAdmin(GreenlightAdmin):
    """People make tokens for themselves; administrators also for machine accounts
    (pipelines). The secret is shown once, on the page after saving; only its hash is
    kept, and the owner is emailed. Administrators see and revoke every token, everyone
    else their own."""

    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "key_prefix", "user__email", "user__full_name")
    list_select_related = ("user",)
    readonly_fields = ("key_prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        if policy.is_administrator(request.user):
            return tokens
        return tokens.filter(user=request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = token_owners_for(request.user)
            kwargs["initial"] = request.user.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name")
        return ("name", "user", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return ("user", *self.readonly_fields) if obj else ()

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing a token is fine; its secret cannot be changed, only revoked.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoked tokens stay, so the audit trail can name them

    def save_model(self, request, obj, form, change: bool) -> None:
        token, secret = services.api_token_issue(
            user=form.cleaned_data["user"], name=form.cleaned_data["name"], actor=request.user
        )
        obj.pk = token.pk
        self.message_user(
            request,
            f"Token “{token.name}” for {token.user.email}: {secret} — copy it now; it is "
            "not shown again.",
            messages.WARNING,
        )

    def save_related(self, request, form, formsets, change):
        pass  # the token has no relations to save; issue() made it

    @admin.action(permissions=["view"], description="Revoke selected tokens")
    def revoke(self, request, queryset):
        tokens = [
            token
            for token in queryset.filter(revoked_at__isnull=True)
            if policy.can_revoke_token(request.user, token)
        ]
        revoked = sum(
            services.api_token_revoke(token=token, actor=request.user) for token in tokens
        )
        self.message_user(request, f"Revoked {revoked} tokens.", messages.SUCCESS)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    list_display = ("email", "cohort", "invited_by", "created_at", "expires_at", "accepted_at")
    list_filter = (("accepted_at", admin.EmptyFieldListFilter), "cohort")
    search_fields = ("email", "cohort__name")
    list_select_related = ("cohort", "invited_by")
    exclude = ("token_hash",)
