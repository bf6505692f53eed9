from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_purposes(sender: AppConfig, **kwargs: Any) -> None:
    """Re-create catalogue purposes that are missing after a migrate or flush; never overwrite."""
    from consent.catalogue import seed_purposes
    from consent.models import Purpose

    seed_purposes(Purpose, overwrite=False)


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent and privacy"

    def ready(self) -> None:
        from consent import receivers, selectors, views
        from consent.demo import load_demo_consent
        from consent.gate import allows, decisions_for
        from consent.merging import refuse_merging_a_consent_history
        from consent.models import ConsentEvent, ConsentState
        from consent.personal_data import PERSONAL_DATA_MODELS, erase_consent, export_consent
        from consent.services import ConsentAuditAction
        from consent.suppression import suppressed_among_normalized
        from contacts.registry import (
            ContactPanel,
            MergeHook,
            PersonalDataHolder,
            register_bulk_gate,
            register_contact_badges,
            register_contact_panel,
            register_contact_privacy,
            register_contacts_withholding,
            register_gate,
            register_merge_hook,
            register_personal_data_holder,
            register_suppression_check,
        )
        from socialcrm import roles
        from socialcrm.audit.registry import register_actions
        from socialcrm.registry import DemoLoader, NavItem, register_demo_loader, register_nav_item

        post_migrate.connect(_ensure_purposes, sender=self)
        register_gate(allows)
        # Exports ask about a chunk of contacts at once.
        register_bulk_gate(decisions_for)
        # A merge never moves a consent history (append-only evidence); it is refused, saying why.
        register_merge_hook(MergeHook("consent", (ConsentEvent, ConsentState), merge=refuse_merging_a_consent_history))
        # Imports skip rows whose email is on the suppression list.
        register_suppression_check(suppressed_among_normalized)
        register_contact_privacy(selectors.privacy_rules_for, selectors.privacy_rules_by_id)
        # Search finds nobody by what they withhold.
        register_contacts_withholding(selectors.contacts_withholding)
        register_contact_badges(selectors.consent_badges_for)
        register_contact_panel(ContactPanel("consent", views.consent_panel, order=50))
        register_contact_panel(ContactPanel("privacy_preferences", views.preferences_panel, order=60))
        register_personal_data_holder(
            PersonalDataHolder("consent", PERSONAL_DATA_MODELS, export=export_consent, erase=erase_consent)
        )
        register_actions(ConsentAuditAction)
        receivers.connect()
        register_nav_item(NavItem("Privacy", "consent:console", roles.is_dpo, order=85))
        # After the contacts' loader: the histories hang off the demo team's contacts.
        register_demo_loader(DemoLoader("Consent histories and privacy preferences", load_demo_consent, order=300))
