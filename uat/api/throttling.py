"""Rate limits of the API, read from settings on each request (API_RATE_USER,
API_RATE_ANON; empty turns a limit off). The counts live in Django's cache, which must
be shared by every process (Redis, CACHE_URL) for the limit to hold across them."""

from django.conf import settings
from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_RATE_USER or None


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_RATE_ANON or None
