from __future__ import annotations

from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self) -> None:
        from contacts import privacy
        from contacts.demo import load_demo_contacts
        from contacts.demo_reminders import load_demo_reminders
        from contacts.home import todays_reminders_section
        from contacts.models import Reminder
        from contacts.registry import (
            ContactPanel,
            PersonalDataHolder,
            register_contact_panel,
            register_personal_data_holder,
        )
        from contacts.selectors_reminders import panel_prefetch as reminder_panel_prefetch
        from contacts.selectors_reminders import reminders_export, works_with_reminders
        from contacts.services.reminders import reminders_erase
        from contacts.views.reminders import reminder_panel
        from socialcrm import roles
        from socialcrm.registry import (
            DemoLoader,
            HomeSection,
            NavItem,
            register_demo_loader,
            register_home_section,
            register_nav_item,
        )

        register_personal_data_holder(
            PersonalDataHolder("contacts", privacy.PERSONAL_DATA_MODELS, privacy.export_contact, privacy.erase_contact)
        )
        register_nav_item(NavItem("Contacts", "contacts:list", roles.is_staff_member, order=10))
        register_nav_item(NavItem("Organizations", "contacts:organization_list", roles.is_staff_member, order=20))
        # Early: other apps' demo data (reminders, consent, profiles) hangs off these people.
        register_demo_loader(DemoLoader("Contacts and timelines", load_demo_contacts, order=10))
        self._register_email()
        self._register_import()
        # Reminders (contacts/services/reminders.py): sales work, so not for the DPO.
        register_nav_item(NavItem("Reminders", "contacts:reminders", works_with_reminders, order=30))
        register_nav_item(NavItem("Team", "contacts:team_dashboard", roles.is_manager, order=40))
        # Its reminders and assignee picker come with the contact page's contact query.
        register_contact_panel(
            ContactPanel(
                "reminders", reminder_panel, order=20, prefetch=lambda request: reminder_panel_prefetch(request.user)
            )
        )
        register_home_section(HomeSection("reminders", todays_reminders_section, works_with_reminders, order=10))
        register_personal_data_holder(PersonalDataHolder("reminders", (Reminder,), reminders_export, reminders_erase))
        # After the contacts' loader: the reminders hang off the demo team's contacts.
        register_demo_loader(DemoLoader("Reminders and keep-in-touch cadences", load_demo_reminders, order=150))

    def _register_email(self) -> None:
        """Email into the timeline (contacts/email/): panel, upload jobs, navigation, demo thread, beat tasks."""
        from django.core import checks

        import contacts.tasks_email  # noqa: F401 - registers the IMAP sync tasks with Celery
        from contacts.checks import email_encryption_key_check
        from contacts.email.demo import load_demo_email
        from contacts.email.ingest import EmailAuditAction
        from contacts.email.selectors import email_upload_jobs_export, threads_prefetch
        from contacts.email.services import email_upload_jobs_erase
        from contacts.models import EmailUploadJob
        from contacts.registry import (
            ContactPanel,
            PersonalDataHolder,
            register_contact_panel,
            register_personal_data_holder,
        )
        from contacts.views.email import email_panel, handles_mail
        from socialcrm.audit.registry import register_actions
        from socialcrm.registry import DemoLoader, NavItem, register_demo_loader, register_nav_item

        register_actions(EmailAuditAction)
        checks.register(email_encryption_key_check, checks.Tags.security, deploy=True)
        register_contact_panel(ContactPanel("email", email_panel, order=30, prefetch=threads_prefetch))
        # Uploads made on a contact's page (their summary; the file only while the job runs).
        register_personal_data_holder(
            PersonalDataHolder("email_uploads", (EmailUploadJob,), email_upload_jobs_export, email_upload_jobs_erase)
        )
        register_nav_item(NavItem("Email", "contacts:email_upload", handles_mail, order=35))
        # After the contacts' loader: the sample thread is logged on a demo contact.
        register_demo_loader(DemoLoader("Email thread", load_demo_email, order=120))

    def _register_import(self) -> None:
        """Import, export, duplicates and merge: audit actions, navigation, demo imports."""
        from contacts.demo_imports import load_demo_imports
        from contacts.models import ContactRedirect, ImportedRecord
        from contacts.registry import PersonalDataHolder, register_personal_data_holder
        from contacts.selectors_imports import import_traces_export
        from contacts.services.imports import ImportAuditAction, import_traces_erase
        from contacts.services.merge import MergeAuditAction
        from contacts.views.dedupe import edits_contacts
        from socialcrm.audit.registry import register_actions
        from socialcrm.registry import DemoLoader, NavItem, register_demo_loader, register_nav_item

        register_actions(ImportAuditAction)
        register_actions(MergeAuditAction)
        register_personal_data_holder(
            PersonalDataHolder("imports", (ImportedRecord, ContactRedirect), import_traces_export, import_traces_erase)
        )
        register_nav_item(NavItem("Import", "contacts:import", edits_contacts, order=24))
        register_nav_item(NavItem("Duplicates", "contacts:duplicates", edits_contacts, order=25))
        # After the contacts' loader: sample files imported as the demo salesperson would.
        register_demo_loader(DemoLoader("Imported contacts (every import format)", load_demo_imports, order=130))
