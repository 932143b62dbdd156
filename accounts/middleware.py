"""The two-factor gate: a sign-in that still owes its code step (or the enrolment its
role requires) reaches only the pages that settle it, and signing out. Every other page
and the admin send it there; a page added later is covered without saying so. The API
is left to ``VerifiedSessionAuthentication``, which refuses such a session with the API's
own error instead of a redirect, while API tokens (machine accounts) are unaffected."""

from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from . import two_factor

# What a sign-in that owes a step may still reach: the step itself, signing out, the
# pages anyone may open without signing in, and the health check.
OPEN_VIEWS = frozenset(
    {
        "accounts:logout",
        "accounts:password_reset",
        "accounts:password_reset_done",
        "accounts:password_reset_confirm",
        "accounts:password_reset_complete",
        "accounts:invitation_accept",
        "healthz",
    }
)


class TwoFactorMiddleware:
    """Goes after django-otp's ``OTPMiddleware``, which it reads."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        step = two_factor.pending_step(request)
        if step == two_factor.NOTHING:
            return None
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        if view_name in OPEN_VIEWS or view_name == two_factor.STEP_VIEWS[step]:
            return None
        return redirect_to_login(request.get_full_path(), reverse(two_factor.STEP_VIEWS[step]))
