"""Authorization table for the contacts app."""

from __future__ import annotations

from typing import Any

from contacts.models import Activity
from contacts.services.imports import import_preview
from tests.authz import FORBIDDEN, LOGIN, NOT_ALLOWED, NOT_FOUND, OK, REDIRECT, Access, public, roles, staff_only
from tests.contacts.importing import fixture_bytes
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    EmailUploadJobFactory,
    OrganizationFactory,
    ReminderFactory,
    SavedViewFactory,
)


def _contact(world: Any) -> Any:
    return ContactFactory(team=world.fixture("team"), owner=world.fixture("alice"))


def _contact_kwargs(world: Any) -> dict[str, Any]:
    return {"pk": _contact(world).pk}


def _alices_logged_call(world: Any) -> dict[str, Any]:
    activity = ActivityFactory(
        contact=_contact(world), actor=world.fixture("alice"), kind=Activity.Kind.CALL, source="manual"
    )
    return {"pk": activity.pk}


def _organization_kwargs(world: Any) -> dict[str, Any]:
    return {"pk": OrganizationFactory(team=world.fixture("team")).pk}


def _alices_saved_view(world: Any) -> dict[str, Any]:
    return {"pk": SavedViewFactory(user=world.fixture("alice")).pk}


# Sales and managers (and admins, who hold every role) change contacts; the DPO reads only.
def _editors(**kw: Any) -> Access:
    return roles(LOGIN, OK, OK, FORBIDDEN, OK, **kw)


_QUICK_LOG = {"kind": "note", "occurred_at": "2024-01-01T10:00", "subject": "Checked in"}


def _alices_reminder(world: Any) -> dict[str, Any]:
    return {"pk": ReminderFactory(contact=_contact(world), assignee=world.fixture("alice")).pk}


def _alices_calendar_feed(world: Any) -> dict[str, Any]:
    from contacts.calendar import calendar_feed_rotate

    feed = calendar_feed_rotate(actor=world.fixture("alice"))
    return {"feed_id": feed.pk, "token": feed.token}


def _team_kwargs(world: Any) -> dict[str, Any]:
    return {"team_id": world.fixture("team").pk}


# Reminders are sales work: sales, managers and admins; the DPO has none (403).
def _reminder_post(**kw: Any) -> Access:
    return roles(LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, method="post", **kw)


URLS: dict[str, Access] = {
    # The contact page and its timeline (contacts/views/detail.py): every working role reads.
    "contacts:detail": staff_only(kwargs=_contact_kwargs),
    "contacts:timeline": staff_only(kwargs=_contact_kwargs),
    "contacts:organization_detail": staff_only(kwargs=_organization_kwargs),
    "contacts:organization_timeline": staff_only(kwargs=_organization_kwargs),
    # Sales and managers log by hand; the DPO reads only.
    "contacts:quick_log": roles(
        LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, kwargs=_contact_kwargs, method="post", data=_QUICK_LOG
    ),
    # Only the author edits or deletes a logged entry (here: alice's, within the window).
    "contacts:activity_edit": roles(LOGIN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, kwargs=_alices_logged_call),
    "contacts:activity_delete": roles(
        LOGIN, REDIRECT, FORBIDDEN, FORBIDDEN, FORBIDDEN, kwargs=_alices_logged_call, method="post"
    ),
    # Lists, saved views and create / edit / archive (contacts/views/lists.py).
    "contacts:list": staff_only(),
    "contacts:create": _editors(),
    "contacts:edit": _editors(kwargs=_contact_kwargs),
    "contacts:archive": _editors(kwargs=_contact_kwargs),
    "contacts:unarchive": _editors(kwargs=_contact_kwargs),
    "contacts:saved_view_create": roles(
        LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, method="post", data={"name": "Mine", "query": "q=ann"}
    ),
    # A saved view is its owner's alone: anyone else gets 404.
    "contacts:saved_view_delete": roles(
        LOGIN, REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, kwargs=_alices_saved_view, method="post"
    ),
    "contacts:organization_list": staff_only(),
    "contacts:organization_create": _editors(),
    "contacts:organization_edit": _editors(kwargs=_organization_kwargs),
    "contacts:organization_archive": _editors(kwargs=_organization_kwargs),
    "contacts:organization_unarchive": _editors(kwargs=_organization_kwargs),
    # Reminders (contacts/views/reminders.py). Managers act on their team's reminders too.
    "contacts:contact_reminders": _editors(kwargs=_contact_kwargs),
    "contacts:reminder_create": _reminder_post(kwargs=_contact_kwargs, data={"due_at": "2030-01-07T09:00"}),
    "contacts:cadence_set": _reminder_post(kwargs=_contact_kwargs, data={"cadence_days": "30"}),
    "contacts:reminders": _editors(),
    "contacts:reminder_bulk": _reminder_post(data={"action": "complete", "ids": "999999"}),
    "contacts:reminder_complete": _reminder_post(kwargs=_alices_reminder),
    "contacts:reminder_snooze": _reminder_post(kwargs=_alices_reminder, data={"preset": "tomorrow"}),
    "contacts:reminder_cancel": _reminder_post(kwargs=_alices_reminder),
    "contacts:calendar_rotate": _reminder_post(),
    # Public: the secret token in the URL is the permission (calendar apps cannot sign in).
    "contacts:calendar_feed": public(OK, kwargs=_alices_calendar_feed),
    "contacts:notifications": _editors(),
    "contacts:notifications_read": _reminder_post(),
    "contacts:notification_preferences": _reminder_post(data={"digest_hour": "7", "digest_enabled": "on"}),
    # The team dashboard and its settings: managers (of that team) and admins.
    "contacts:team_dashboard": roles(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK),
    "contacts:team_settings": roles(
        LOGIN,
        FORBIDDEN,
        REDIRECT,
        FORBIDDEN,
        REDIRECT,
        kwargs=_team_kwargs,
        method="post",
        data={"awaiting_reply_days": "5"},
    ),
}


# --- Email into the timeline (contacts/views/email.py) ------------------------------------------


def _email_kwargs(world: Any) -> dict[str, Any]:
    activity = ActivityFactory(contact=_contact(world), kind=Activity.Kind.EMAIL, thread_key="root@x.example")
    return {"pk": activity.pk}


def _organization_upload_kwargs(world: Any) -> dict[str, Any]:
    return {"organization_pk": OrganizationFactory(team=world.fixture("team")).pk}


def _alices_upload_job(world: Any) -> dict[str, Any]:
    return {"pk": EmailUploadJobFactory(created_by=world.fixture("alice"), contact=_contact(world)).pk}


def _team_pk_kwargs(world: Any) -> dict[str, Any]:
    return {"pk": world.fixture("team").pk}


URLS.update(
    {
        # Uploads log mail: sales and managers; the DPO reads only.
        "contacts:email_upload": _editors(),
        "contacts:contact_email_upload": _editors(kwargs=_contact_kwargs),
        "contacts:organization_email_upload": _editors(kwargs=_organization_upload_kwargs),
        # A large upload's page is its uploader's (as the result page was): her manager and admins get 404.
        "contacts:email_upload_job": roles(LOGIN, OK, NOT_FOUND, FORBIDDEN, NOT_FOUND, kwargs=_alices_upload_job),
        # Without htmx the progress fragment sends the browser to the upload's page.
        "contacts:email_upload_progress": roles(
            LOGIN, REDIRECT, NOT_FOUND, FORBIDDEN, NOT_FOUND, kwargs=_alices_upload_job
        ),
        # Cancelling is for whoever sees the page (the uploader); a job that ended is left as it is (a redirect).
        "contacts:email_upload_cancel": roles(
            LOGIN, REDIRECT, NOT_FOUND, FORBIDDEN, NOT_FOUND, kwargs=_alices_upload_job, method="post"
        ),
        # The dropbox webhook is public but POST-only (a signed relay request; see test_email_views.py).
        "contacts:inbound_email": roles(
            NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, kwargs=lambda world: {"token": "x"}
        ),
        "contacts:thread": staff_only(kwargs=_email_kwargs),
        "contacts:mailbox_settings": _editors(),
        "contacts:mailbox_disconnect": roles(LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, method="post"),
        # Only the team's managers (and admins) set its domains and dropbox; alice is not one: 404.
        "contacts:team_mail_settings": roles(
            LOGIN,
            NOT_FOUND,
            REDIRECT,
            FORBIDDEN,
            REDIRECT,
            kwargs=_team_pk_kwargs,
            method="post",
            data={"own_domains": "ourco.example"},
        ),
    }
)


# --- Import, export, duplicates and merge (contacts/views/imports.py, contacts/views/dedupe.py) --


def _alices_import(world: Any) -> dict[str, Any]:
    job = import_preview(
        actor=world.fixture("alice"),
        team=world.fixture("team"),
        file_name="linkedin_connections.csv",
        data=fixture_bytes("linkedin_connections.csv"),
    )
    return {"pk": job.pk}


def _two_contacts(world: Any) -> dict[str, Any]:
    return {"pk": _contact(world).pk, "other": _contact(world).pk}


URLS.update(
    {
        # Imports create contacts: sales and managers (teammates see each other's imports).
        "contacts:import": _editors(),
        "contacts:import_detail": _editors(kwargs=_alices_import),
        "contacts:import_errors": _editors(kwargs=_alices_import),
        # Without htmx the progress fragment sends the browser to the import's page.
        "contacts:import_progress": roles(LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, kwargs=_alices_import),
        "contacts:import_mapping": roles(
            LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, kwargs=_alices_import, method="post"
        ),
        "contacts:import_commit": roles(
            LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, kwargs=_alices_import, method="post"
        ),
        "contacts:import_undo": roles(
            LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, kwargs=_alices_import, method="post"
        ),
        "contacts:import_cancel": roles(
            LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, kwargs=_alices_import, method="post"
        ),
        # Exports are reads of the list (audited per contact): every working role.
        "contacts:export_confirm": staff_only(),
        "contacts:export_csv": staff_only(),
        "contacts:export_vcard": staff_only(),
        "contacts:duplicates": _editors(),
        "contacts:merge": _editors(kwargs=_two_contacts),
    }
)
