"""Reads of the email pages, scoped to the user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest

from contacts.email.forwards import Forwarders
from contacts.models import (
    Activity,
    Contact,
    ContactMethod,
    EmailUploadJob,
    MailboxConnection,
    Organization,
    TeamSettings,
)
from contacts.normalize import normalize_email
from contacts.registry import NO_PRIVACY_RULES, ContactPrivacy
from contacts.selectors import json_datetime, json_rows, visible_contacts, visible_organizations
from socialcrm import roles
from socialcrm.models import Team, User

PANEL_THREADS = 5
# The panel groups the newest emails into threads; this many rows is plenty for five threads.
PANEL_SCAN = 60


@dataclass(frozen=True)
class ThreadPerson:
    """How the thread's contact appears in the headers: by the name they chose, and their
    own addresses left out when they withhold their email (``contact_privacy``)."""

    emails: frozenset[str]  # the contact's own addresses, lowercased
    name: str
    show_email: bool

    def shown(self, name: str, email: str) -> tuple[str, str]:
        if email.lower() not in self.emails:
            return name, email
        return self.name, email if self.show_email else ""


def _address(value: Any, person: ThreadPerson | None) -> tuple[str, str]:
    if not isinstance(value, dict):
        return "", ""
    name, email = str(value.get("name") or ""), str(value.get("email") or "")
    return person.shown(name, email) if person else (name, email)


def _label(value: Any, person: ThreadPerson | None) -> str:
    name, email = _address(value, person)
    return name or email


@dataclass(frozen=True)
class ThreadMessage:
    """One message of a thread as the page shows it (the payload read defensively: older rows may lack keys)."""

    activity: Activity
    sender_name: str
    sender_email: str
    to: list[str]
    cc: list[str]
    attachments: list[dict[str, Any]]

    @classmethod
    def of(cls, activity: Activity, person: ThreadPerson | None = None) -> ThreadMessage:
        payload: dict[str, Any] = activity.payload if isinstance(activity.payload, dict) else {}
        sender_name, sender_email = _address(payload.get("from"), person)
        return cls(
            activity=activity,
            sender_name=sender_name,
            sender_email=sender_email,
            to=[label for label in (_label(value, person) for value in payload.get("to") or []) if label],
            cc=[label for label in (_label(value, person) for value in payload.get("cc") or []) if label],
            attachments=[item for item in payload.get("attachments") or [] if isinstance(item, dict)],
        )


def thread_person(contact: Contact, privacy: ContactPrivacy) -> ThreadPerson | None:
    """What ``ThreadMessage.of`` needs to present ``contact`` per their privacy rules; None when
    they have none (one query for their addresses otherwise)."""
    if privacy == NO_PRIVACY_RULES or (not privacy.display_name and privacy.shows("email")):
        return None
    emails = ContactMethod.objects.filter(contact=contact, kind=ContactMethod.Kind.EMAIL).values_list(
        "value", flat=True
    )
    return ThreadPerson(frozenset(email.lower() for email in emails), privacy.name_for(contact), privacy.shows("email"))


def email_thread(*, user: Any, activity: Activity, person: ThreadPerson | None = None) -> list[ThreadMessage]:
    """The emails of ``activity``'s thread on the same contact, oldest first (``activity`` alone if unthreaded).

    ``activity`` must come from an access function (``activity_get``): its contact is visible.
    ``person`` (``thread_person``) presents the contact's own addresses per their privacy rules.
    """
    if activity.kind != Activity.Kind.EMAIL or not activity.thread_key:
        return [ThreadMessage.of(activity, person)]
    rows = (
        Activity.objects.filter(
            contact__in=visible_contacts(user).filter(pk=activity.contact_id),
            kind=Activity.Kind.EMAIL,
            thread_key=activity.thread_key,
        )
        .select_related("actor")
        .order_by("occurred_at", "id")
    )
    return [ThreadMessage.of(row, person) for row in rows]


@dataclass(frozen=True)
class ThreadSummary:
    activity_id: int  # the newest message of the thread (the thread page's address)
    subject: str
    last_at: datetime
    messages: int


# The contact page's contact query brings the panel's newest emails along (``threads_prefetch``).
THREADS_ANNOTATION = "email_panel_messages"


def _newest_emails(contact_ref: Any) -> QuerySet[Activity]:
    return Activity.objects.filter(contact_id=contact_ref, kind=Activity.Kind.EMAIL).order_by("-occurred_at", "-id")


def threads_prefetch(request: HttpRequest) -> dict[str, Subquery]:
    """The panel's newest emails as an annotation of the contact page's contact query."""
    newest = _newest_emails(OuterRef(OuterRef("pk"))).values("pk")[:PANEL_SCAN]
    messages = Activity.objects.filter(pk__in=newest)
    fields = {"id": "id", "thread_key": "thread_key", "subject": "subject", "occurred_at": "occurred_at"}
    return {THREADS_ANNOTATION: json_rows(messages, **fields)}


def recent_threads(*, contact: Contact) -> list[ThreadSummary]:
    """The contact's newest email threads, for the contact page's email panel: from
    ``threads_prefetch``'s annotation when the contact has it, else one query."""
    rows: list[tuple[int, str, str, datetime]]
    if THREADS_ANNOTATION in contact.__dict__:
        found = [
            (row["id"], row["thread_key"], row["subject"], cast(datetime, json_datetime(row["occurred_at"])))
            for row in contact.__dict__[THREADS_ANNOTATION] or []
        ]
        rows = sorted(found, key=lambda row: (row[3], row[0]), reverse=True)
    else:
        rows = list(_newest_emails(contact.pk).values_list("pk", "thread_key", "subject", "occurred_at")[:PANEL_SCAN])
    threads: dict[str, list[tuple[int, str, datetime]]] = {}
    for pk, thread_key, subject, occurred_at in rows:
        threads.setdefault(thread_key or f"single:{pk}", []).append((pk, subject, occurred_at))
    return [
        ThreadSummary(activity_id=items[0][0], subject=items[-1][1], last_at=items[0][2], messages=len(items))
        for items in list(threads.values())[:PANEL_THREADS]
    ]


def dropbox_contacts(team: Team) -> QuerySet[Contact]:
    """What a team's dropbox may match: that team's contacts (the signed relay is the only caller)."""
    return Contact.objects.filter(team=team)


def dropbox_forwarders(team: Team) -> Forwarders:
    """Whose forwards ``team``'s dropbox unwraps: its members' and managers' addresses, its own domains."""
    addresses = set()
    for email in User.objects.filter(Q(teams=team) | Q(managed_teams=team)).values_list("email", flat=True):
        try:
            addresses.add(normalize_email(email))
        except ValidationError:
            continue  # a user without a usable address forwards nothing
    domains = TeamSettings.objects.filter(team=team).values_list("own_domains", flat=True).first() or []
    return Forwarders(frozenset(addresses), frozenset(str(domain).lower() for domain in domains))


def mailbox_of(user: Any) -> MailboxConnection | None:
    return MailboxConnection.objects.filter(user=user).first()


@dataclass(frozen=True)
class TeamMail:
    team: Team
    settings: TeamSettings | None
    can_manage: bool


def teams_mail_settings(*, user: Any) -> list[TeamMail]:
    """The user's own teams with their email settings; ``can_manage`` for the teams they manage."""
    teams = list(Team.objects.filter(Q(members=user) | Q(managers=user)).distinct().order_by("name", "id"))
    by_team = {row.team_id: row for row in TeamSettings.objects.filter(team__in=teams)}
    managed = set(Team.objects.filter(managers=user).values_list("pk", flat=True))
    return [TeamMail(team, by_team.get(team.pk), roles.is_admin(user) or team.pk in managed) for team in teams]


def managed_team_get(*, user: Any, pk: int) -> Team:
    """Team ``pk`` if ``user`` manages it (or is an admin); Http404 otherwise."""
    teams = Team.objects.all() if roles.is_admin(user) else Team.objects.filter(managers=user)
    team = teams.filter(pk=pk).first()
    if team is None:
        raise Http404("No such team.")
    return team


# --- Uploads ---------------------------------------------------------------------------------


def upload_contacts(
    *, user: Any, contact: Contact | None = None, organization: Organization | None = None
) -> QuerySet[Contact]:
    """Who an upload by ``user`` may log mail on: ``contact``, ``organization``'s people, or
    (neither) every contact ``user`` sees, as ``user`` sees them now."""
    visible = visible_contacts(user)
    if contact is not None:
        return visible.filter(pk=contact.pk)
    if organization is not None:
        return visible.filter(organization=organization)
    return visible


def _upload_jobs(user: Any) -> QuerySet[EmailUploadJob]:
    """``user``'s own uploads (the page is the uploader's receipt, as the result page was) whose
    contact or organization they still see; never the file."""
    return (
        EmailUploadJob.objects.filter(created_by=user)
        .filter(Q(contact__isnull=True) | Q(contact__in=visible_contacts(user)))
        .filter(Q(organization__isnull=True) | Q(organization__in=visible_organizations(user)))
        .select_related("contact", "organization")
        .defer("data")
    )


def email_upload_job_get(*, user: Any, pk: int) -> EmailUploadJob:
    """The upload job ``pk`` if ``user`` made it and still sees what it is about; Http404 otherwise."""
    job = _upload_jobs(user).filter(pk=pk).first()
    if job is None:
        raise Http404("No such upload.")
    return job


def recent_email_upload_jobs(*, user: Any, limit: int = 10) -> list[EmailUploadJob]:
    """``user``'s latest background uploads, for the upload page (one query)."""
    return list(_upload_jobs(user).order_by("-created_at", "-id")[:limit])


def email_upload_jobs_export(contact: Contact) -> list[dict[str, Any]]:
    """Personal-data export: the uploads made on ``contact``'s page (what was done, not the mail)."""
    rows = EmailUploadJob.objects.filter(contact=contact).order_by("id")
    return [
        dict(row) for row in rows.values("id", "file_name", "created_at", "status", "failure", "finished_at", "counts")
    ]
