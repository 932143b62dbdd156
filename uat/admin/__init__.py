"""The QA lead's admin. Importing the modules registers their admins; the CSV export
is one site-wide action, so every changelist offers it."""

from django.contrib import admin

from . import catalog, planning, records, work
from .export import export_as_csv

admin.site.add_action(export_as_csv)

__all__ = ["catalog", "planning", "records", "work"]
