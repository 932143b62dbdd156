"""SignOff and Promotion move to the reports app, where the acceptance decision lives.

Only Django's picture of the models moves: the tables (uat_signoff, uat_promotion), their
rows, constraints and the append-only triggers stay as they are (the new models name the
tables). The content types move with them, so audit events and permissions that point at
sign-offs and promotions keep pointing at them."""

from django.db import migrations

MOVED = ("signoff", "promotion")


def content_types_move(from_app: str, to_app: str):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in MOVED:
            if not ContentType.objects.filter(app_label=to_app, model=model).exists():
                ContentType.objects.filter(app_label=from_app, model=model).update(
                    app_label=to_app
                )

    return move


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("uat", "0008_defect_tally"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='promotion',
                    name='promoted_by',
                ),
                migrations.RemoveField(
                    model_name='promotion',
                    name='release',
                ),
                migrations.RemoveField(
                    model_name='promotion',
                    name='report',
                ),
                migrations.RemoveConstraint(
                    model_name='signoff',
                    name='signoff_reject_needs_reason',
                ),
                migrations.RemoveConstraint(
                    model_name='signoff',
                    name='signoff_decision_valid',
                ),
                migrations.RemoveConstraint(
                    model_name='signoff',
                    name='signoff_printed_name_required',
                ),
                migrations.DeleteModel(
                    name='Promotion',
                ),
                migrations.DeleteModel(
                    name='SignOff',
                ),
    
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            content_types_move("uat", "reports"), content_types_move("reports", "uat")
        ),
    ]
