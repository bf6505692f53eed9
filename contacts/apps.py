from __future__ import annotations

from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self) -> None:
        from contacts import privacy
        from contacts.demo import load_demo_contacts
        from contacts.registry import PersonalDataHolder, register_personal_data_holder
        from socialcrm import roles
        from socialcrm.registry import DemoLoader, NavItem, register_demo_loader, register_nav_item

        register_personal_data_holder(
            PersonalDataHolder("contacts", privacy.PERSONAL_DATA_MODELS, privacy.export_contact, privacy.erase_contact)
        )
        register_nav_item(NavItem("Contacts", "contacts:list", roles.is_staff_member, order=10))
        register_nav_item(NavItem("Organizations", "contacts:organization_list", roles.is_staff_member, order=20))
        # Early: other apps' demo data (reminders, consent, profiles) hangs off these people.
        register_demo_loader(DemoLoader("Contacts and timelines", load_demo_contacts, order=10))
