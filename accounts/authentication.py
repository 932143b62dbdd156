"""API token authentication for machines and scripts."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

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
        # One write per request at most a minute: enough for "last used", cheap under load.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
