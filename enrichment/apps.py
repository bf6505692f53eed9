from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class EnrichmentConfig(AppConfig):
    name = "enrichment"

    def ready(self) -> None:
        from contacts.registry import (
            ContactPanel,
            PersonalDataHolder,
            register_contact_panel,
            register_personal_data_holder,
        )
        from enrichment import receivers, selectors, views
        from enrichment.checks import private_addresses_check
        from enrichment.demo import load_demo_profiles
        from enrichment.personal_data import PERSONAL_DATA_MODELS, erase_enrichment, export_enrichment
        from socialcrm.registry import DemoLoader, register_demo_loader

        register_personal_data_holder(
            PersonalDataHolder("enrichment", PERSONAL_DATA_MODELS, export=export_enrichment, erase=erase_enrichment)
        )
        register_contact_panel(
            ContactPanel("social_profiles", views.profiles_panel, order=70, prefetch=selectors.panel_prefetch)
        )
        receivers.connect()
        checks.register(private_addresses_check, checks.Tags.security)
        # After the contacts' (10) and reminders' loaders: the profiles hang off the demo contacts.
        register_demo_loader(DemoLoader("Public profiles (demo)", load_demo_profiles, order=210))
