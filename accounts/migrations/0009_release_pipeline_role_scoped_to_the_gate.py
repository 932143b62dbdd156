"""The Release pipeline role reads releases and promotes, nothing more: its view
permissions on plans, sign-offs and acceptance reports are taken away."""

from django.db import migrations

from accounts.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_sign_in_attempts_and_normal_emails")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
