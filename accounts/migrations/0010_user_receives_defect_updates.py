"""Each person may turn off the emails about the defects they reported; QA leads read
defect comments in the admin."""

from django.db import migrations, models

from accounts.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_release_pipeline_role_scoped_to_the_gate"),
        ("uat", "0015_defect_fixed_in_build_and_comments"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="receives_defect_updates",
            field=models.BooleanField(
                default=True,
                help_text="Email me when a defect I reported changes status or gets a comment.",
            ),
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
