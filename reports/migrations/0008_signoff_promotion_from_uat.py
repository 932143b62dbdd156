"""SignOff and Promotion, moved from the uat app (see its migration 0009): Django's
picture of them only; their tables were made by uat's migrations and stay."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0007_evidence_package_jobs'),
        ('uat', '0009_move_signoff_promotion_to_reports'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Promotion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('from_stage', models.CharField(choices=[('planning', 'Planning'), ('alpha', 'Alpha'), ('beta', 'Beta'), ('production', 'Production')], max_length=12)),
                        ('to_stage', models.CharField(choices=[('planning', 'Planning'), ('alpha', 'Alpha'), ('beta', 'Beta'), ('production', 'Production')], max_length=12)),
                        ('build', models.CharField(max_length=100)),
                        ('decision', models.JSONField(help_text='The gate decision the promotion relied on.')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('promoted_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promotions', to=settings.AUTH_USER_MODEL)),
                        ('release', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promotions', to='uat.release')),
                        ('report', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='promotions', to='reports.acceptancereport')),
                    ],
                    options={
                        'db_table': 'uat_promotion',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='SignOff',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('business_owner', 'Business Owner'), ('product_owner', 'Product Owner'), ('qa_lead', 'QA Lead'), ('compliance', 'Compliance'), ('release_manager', 'Release Manager')], max_length=20)),
                        ('printed_name', models.CharField(max_length=150)),
                        ('meaning', models.CharField(max_length=200)),
                        ('decision', models.CharField(choices=[('approve', 'Approve'), ('reject', 'Reject')], max_length=7)),
                        ('reason', models.TextField(blank=True, help_text='Required when rejecting.')),
                        ('comment', models.TextField(blank=True)),
                        ('fingerprint', models.CharField(max_length=64)),
                        ('signed_at', models.DateTimeField()),
                        ('report', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signoffs', to='reports.acceptancereport')),
                        ('signer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signoffs', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'sign-off',
                        'db_table': 'uat_signoff',
                        'ordering': ['report', 'signed_at'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('decision', 'approve'), models.Q(('reason', ''), _negated=True), _connector='OR'), name='signoff_reject_needs_reason', violation_error_message='A rejection needs a reason.'), models.CheckConstraint(condition=models.Q(('decision__in', ['approve', 'reject'])), name='signoff_decision_valid'), models.CheckConstraint(condition=models.Q(('printed_name', ''), _negated=True), name='signoff_printed_name_required')],
                    },
                ),
    
            ],
            database_operations=[],
        ),
    ]
