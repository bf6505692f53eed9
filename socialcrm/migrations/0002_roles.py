"""Create the three role groups with the permissions of the models that exist so far.

Later apps' migrations grant their own models' permissions to these groups.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Sales": ["socialcrm.view_team"],
    "Manager": ["socialcrm.view_team", "socialcrm.add_invitation", "socialcrm.view_invitation"],
    "Data protection officer": ["socialcrm.view_team", "socialcrm.view_user"],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations run; make them now.
    app_config = apps.get_app_config("socialcrm")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("socialcrm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
