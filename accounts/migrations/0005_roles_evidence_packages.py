from django.db import migrations

from accounts.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_roles_tokens_invitations_webhooks"),
        ("reports", "0004_evidence_package"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
