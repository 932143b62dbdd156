from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    from accounts.roles import ADMIN_ROLE, ROLE_PERMISSIONS

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, pairs in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = set(pairs)
        perms = [
            p
            for p in Permission.objects.select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]
        missing = wanted - {(p.content_type.app_label, p.codename) for p in perms}
        if missing:
            raise RuntimeError(f"Permissions missing for role {name}: {sorted(missing)}")
        group.permissions.set(perms)
    admin, _ = Group.objects.get_or_create(name=ADMIN_ROLE)
    admin.permissions.set(Permission.objects.all())


def remove_roles(apps, schema_editor):
    from accounts.roles import ADMIN_ROLE, ROLE_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(
        name__in=[*ROLE_PERMISSIONS, ADMIN_ROLE]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("uat", "0001_initial"),
        ("reports", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
