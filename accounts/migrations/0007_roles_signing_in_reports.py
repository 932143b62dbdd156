"""The roles' permissions on sign-offs and promotions now belong to the reports app
(the models moved there; their content types moved with them)."""

from django.db import migrations

from accounts.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_release_pipeline_role"),
        ("reports", "0008_signoff_promotion_from_uat"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
