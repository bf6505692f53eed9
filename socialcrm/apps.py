from django.apps import AppConfig


class SocialCrmConfig(AppConfig):
    name = "socialcrm"
    verbose_name = "Social CRM"

    def ready(self) -> None:
        from socialcrm import roles
        from socialcrm.registry import NavItem, register_nav_item

        register_nav_item(NavItem("Home", "home", roles.is_staff_member, order=0))
        register_nav_item(NavItem("Invitations", "team:invitations", roles.can_invite, order=80))
        register_nav_item(NavItem("Admin", "admin:index", lambda user: user.is_staff, order=999))
