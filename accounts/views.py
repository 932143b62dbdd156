"""Getting in: sign in and out, reset a forgotten password, accept a beta invitation,
and the QA lead's page to invite beta testers."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from uat.access import sees_everything

from . import services
from .forms import GreenlightPasswordResetForm, InvitationAcceptForm, InvitationForm, SignInForm
from .models import Invitation

login_view = auth_views.LoginView.as_view(
    template_name="accounts/login.html",
    authentication_form=SignInForm,
    redirect_authenticated_user=True,
)
logout_view = auth_views.LogoutView.as_view()
password_reset = auth_views.PasswordResetView.as_view(
    template_name="accounts/password_reset_form.html",
    form_class=GreenlightPasswordResetForm,
    success_url=reverse_lazy("accounts:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


@never_cache
@sensitive_post_parameters("password1", "password2")
def invitation_accept(request, secret: str):
    """The invitee's landing page: choose a name and password, then go to the inbox.
    A link that cannot be used explains why instead."""
    invitation = services.invitation_find(secret)
    problem = services.invitation_problem(invitation)
    if problem:
        status = 404 if invitation is None else 410
        return render(
            request, "accounts/invitation_invalid.html", {"problem": problem}, status=status
        )
    form = InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
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
    if not sees_everything(request.user):
        raise Http404
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_send(
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
