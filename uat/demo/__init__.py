"""The Acme CRM demo: the example every UAT guide uses, built through the services."""

from .build import DEMO_SLUG, build_demo, demo_counts, demo_exists
from .people import DEMO_LOGINS

__all__ = ["DEMO_LOGINS", "DEMO_SLUG", "build_demo", "demo_counts", "demo_exists"]
