from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit trail: lives under ``socialcrm`` so every app (contacts included) may record to it."""

    name = "socialcrm.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from socialcrm import roles
        from socialcrm.audit import receivers
        from socialcrm.registry import NavItem, register_nav_item

        receivers.connect()
        register_nav_item(NavItem("Audit", "audit:events", roles.is_dpo, order=90))
