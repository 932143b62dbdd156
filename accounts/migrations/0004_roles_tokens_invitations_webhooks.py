from django.db import migrations

from accounts.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_apitoken_invitation"),
        ("reports", "0003_webhook_emaildelivery_webhookdelivery"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
