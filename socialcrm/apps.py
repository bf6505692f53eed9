from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_role_groups(sender: AppConfig, **kwargs: Any) -> None:
    """Keep the role groups present after every migrate and flush.

    The data migration creates them; a database flush (transactional tests) deletes
    them, so they are recreated here if missing.
    """
    from django.contrib.auth.models import Group, Permission

    from socialcrm.roles import ensure_role_groups

    ensure_role_groups(Group, Permission)


class SocialCrmConfig(AppConfig):
    name = "socialcrm"
    verbose_name = "Social CRM"

    def ready(self) -> None:
        from socialcrm import roles
        from socialcrm.registry import NavItem, register_nav_item

        post_migrate.connect(_ensure_role_groups, sender=self)
        register_nav_item(NavItem("Home", "home", roles.is_staff_member, order=0))
        register_nav_item(NavItem("Invitations", "team:invitations", roles.can_invite, order=80))
        register_nav_item(NavItem("Admin", "admin:index", lambda user: user.is_staff, order=999))
