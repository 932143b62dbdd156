"""The caller's own API tokens: list, create (the secret is shown once), revoke."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.models import ApiToken
from accounts.services import api_token_issue, api_token_revoke

from ..permissions import SignedIn
from ..serializers.records import ApiTokenSerializer, NewApiTokenSerializer
from .base import ApiViewSet


class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ApiViewSet
):
    """Each person's own tokens. A new token is made only from a signed-in browser
    session, so a leaked token cannot mint more; revoking works with either."""

    queryset = ApiToken.objects.all()
    serializer_class = ApiTokenSerializer
    permission_classes = [SignedIn]
    pipeline_actions = True  # a pipeline's own tokens
    filterset_fields = ["revoked_at"]
    ordering_fields = ["created_at", "last_used_at", "name"]

    def scope(self, queryset):
        return queryset.filter(user=self.request.user)

    @extend_schema(request=ApiTokenSerializer, responses={201: NewApiTokenSerializer})
    @transaction.atomic
    def create(self, request, *args, **kwargs):
        """Make a token for yourself. The answer holds its secret, this once."""
        if not isinstance(request.successful_authenticator, SessionAuthentication):
            raise PermissionDenied("Create API tokens while signed in, not with a token.")
        data = ApiTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = api_token_issue(
            user=request.user, name=data.validated_data["name"], actor=request.user
        )
        token.secret = secret
        return Response(NewApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        # Revoked, not deleted: the record of what had access stays.
        api_token_revoke(token=instance, actor=self.request.user)

    @extend_schema(request=None, responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the token; requests with it are refused from now on."""
        token = self.get_object()
        self.perform_destroy(token)
        return Response(ApiTokenSerializer(token).data)
