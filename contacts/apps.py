from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self) -> None:
        from contacts.demo import load_demo_contacts
        from socialcrm.registry import DemoLoader, register_demo_loader

        # Early: other apps' demo data (reminders, consent, profiles) hangs off these people.
        register_demo_loader(DemoLoader("Contacts and timelines", load_demo_contacts, order=10))
