"""How the API knows its caller: API tokens for machines and scripts, and the browser's
session once it has passed the two-factor step it owes."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions

from . import two_factor
from .models import ApiToken


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <secret>`` (or ``Bearer``), checked against the stored hash."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"token", b"bearer"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as 'Token <secret>'."))
        try:
            secret = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        return self.authenticate_credentials(secret)

    def authenticate_credentials(self, key):
        token = ApiToken.find(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("The token is not valid or was revoked."))
        if two_factor.token_suspended(token.user):
            raise exceptions.AuthenticationFailed(
                _(
                    "Your role requires two-factor authentication: set it up in the browser "
                    "first. Then make a new token."
                )
            )
        # One write per request at most a minute: enough for "last used", cheap under load.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The browser's session, refused while it still owes the two-factor code step (or
    the enrolment its role requires): a password alone does not open the API to someone
    who must also show a code. API tokens are checked before this and are unaffected."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and two_factor.pending_step(request._request):
            raise exceptions.AuthenticationFailed(
                _("Finish signing in with your two-factor code first.")
            )
        return result


class VerifiedSessionScheme(SessionScheme):
    """The OpenAPI schema describes it as the session cookie it is."""

    target_class = VerifiedSessionAuthentication
