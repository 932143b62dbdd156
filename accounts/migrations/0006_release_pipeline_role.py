from django.db import migrations

from accounts.roles import sync_roles


def remove_pipeline_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Release pipeline").delete()


class Migration(migrations.Migration):
    """The Release pipeline role; QA leads may promote; leads read the gate states."""

    dependencies = [
        ("accounts", "0005_roles_evidence_packages"),
        ("reports", "0005_gate_state"),
    ]

    operations = [migrations.RunPython(sync_roles, remove_pipeline_role)]
