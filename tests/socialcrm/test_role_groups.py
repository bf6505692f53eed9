from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from socialcrm.roles import Role


@pytest.mark.django_db(transaction=True)
def test_role_groups_are_back_after_a_database_flush() -> None:
    call_command("flush", interactive=False, verbosity=0)

    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


@pytest.mark.django_db
def test_the_data_migration_gives_roles_their_permissions() -> None:
    manager = Group.objects.get(name=Role.MANAGER.value)

    assert manager.permissions.filter(codename="add_invitation").exists()


@pytest.mark.django_db(transaction=True)
def test_role_groups_recreated_after_a_flush_keep_their_permissions() -> None:
    call_command("flush", interactive=False, verbosity=0)

    assert Group.objects.get(name=Role.MANAGER.value).permissions.filter(codename="add_invitation").exists()


@pytest.mark.django_db
def test_a_permission_added_to_a_role_reaches_an_existing_group(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.apps import apps
    from django.db.models.signals import post_migrate

    from socialcrm import roles

    extended = {**roles.ROLE_PERMISSIONS, Role.SALES: (*roles.ROLE_PERMISSIONS[Role.SALES], "socialcrm.view_user")}
    monkeypatch.setattr(roles, "ROLE_PERMISSIONS", extended)

    config = apps.get_app_config("socialcrm")
    post_migrate.send(sender=config, app_config=config)

    assert Group.objects.get(name=Role.SALES.value).permissions.filter(codename="view_user").exists()
