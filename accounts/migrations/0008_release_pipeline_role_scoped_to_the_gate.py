"""The Release pipeline role reads releases and promotes, nothing more: its view
permissions on plans, sign-offs and acceptance reports are taken away."""

from django.db import migrations

from accounts.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_roles_signing_in_reports")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
