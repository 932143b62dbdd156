"""The Celery app, configured from Django settings under the ``CELERY_`` namespace.

Without ``CELERY_BROKER_URL`` the settings make tasks run eagerly in-process, so the
local default needs no Redis; with it set, tasks go to real workers.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("greenlight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Webhook deliveries live beside the webhooks, in reports/webhooks.py.
app.autodiscover_tasks(related_name="webhooks")
