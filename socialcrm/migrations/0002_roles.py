"""Create the three role groups with the permissions of the models that exist so far.

Later apps' migrations grant their own models' permissions to these groups.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from socialcrm.roles import Role, ensure_role_groups


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations run; make them now.
    app_config = apps.get_app_config("socialcrm")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    ensure_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[role.value for role in Role]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("socialcrm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
