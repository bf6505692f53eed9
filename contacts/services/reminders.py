"""Writing reminders: create, complete (and repeat), snooze, cancel; cadences and the clocks.

Every service takes the acting user and checks what they may do (``reminder_can_assign``,
``reminder_can_act``); views only catch ``PermissionDenied``. Creating, completing and
snoozing write a timeline row through ``activity_record``. Nudges (cadence and awaiting
reply) are made by beat in ``contacts/services/nudges.py``; this module keeps the clocks
they are found by (``Contact.cadence_due_at`` / ``reply_due_at``) and closes them when the
person is talked to (``interaction_recorded``, called by ``activity_record``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from contacts import selectors
from contacts.models import OPEN_REMINDER_STATUSES, Activity, Contact, Reminder, TeamSettings
from contacts.selectors_reminders import last_email_sent
from contacts.services import timeline
from socialcrm import roles
from socialcrm.bulk import rows_update

REMINDER_SOURCE = "reminders"
MAX_COMPLETION_CATCH_UP = 10_000  # occurrences skipped at most when a series is completed late

SNOOZE_PRESETS: dict[str, str] = {
    "hour": "In an hour",
    "tomorrow": "Tomorrow morning",
    "next_week": "Next Monday morning",
}
MORNING = time(9, 0)


def zone_named(name: str | None) -> ZoneInfo:
    """The time zone ``name`` (an IANA name); UTC when empty or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def user_zone(user: Any) -> ZoneInfo:
    """The user's time zone (``User.time_zone``); UTC when unset or unknown."""
    return zone_named(getattr(user, "time_zone", ""))


def at_local(day_and_time: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as an aware datetime.

    For a time skipped by a DST change (02:30 on a spring-forward night) zoneinfo's fold=0
    gives the offset before the change, i.e. the instant an hour "later" on the clock.
    """
    return day_and_time.replace(tzinfo=None).replace(tzinfo=zone)


# --- who may do what ------------------------------------------------------------------------


def _manages_team(user: Any, team_id: int) -> bool:
    if roles.is_admin(user):
        return True
    # The visibility query's (cached on the user): no query of its own on the contact page.
    return roles.is_manager(user) and team_id in selectors.managed_team_ids(user)


def _in_team(user: Any, team_id: int) -> bool:
    return bool(user.is_active) and (
        user.teams.filter(pk=team_id).exists() or user.managed_teams.filter(pk=team_id).exists()
    )


def reminder_can_assign(*, actor: Any, assignee: Any, contact: Contact) -> bool:
    """Sales set reminders for themselves; managers (and admins) for anyone in the contact's team."""
    if not roles.has_role(actor, roles.Role.SALES, roles.Role.MANAGER):
        return False
    if not selectors.visible_contacts(actor).filter(pk=contact.pk).exists():
        return False
    if assignee.pk == actor.pk:
        return True
    return _manages_team(actor, contact.team_id) and _in_team(assignee, contact.team_id)


def reminder_can_act(*, actor: Any, reminder: Reminder) -> bool:
    """The assignee, the managers of the contact's team and admins complete, snooze and cancel."""
    if not roles.has_role(actor, roles.Role.SALES, roles.Role.MANAGER):
        return False
    return reminder.assignee_id == actor.pk or _manages_team(actor, reminder.contact.team_id)


def contact_can_set_cadence(*, actor: Any, contact: Contact) -> bool:
    """The contact's owner or a manager of its team."""
    if not roles.has_role(actor, roles.Role.SALES, roles.Role.MANAGER):
        return False
    return (contact.owner_id is not None and contact.owner_id == actor.pk) or _manages_team(actor, contact.team_id)


# --- reminders ------------------------------------------------------------------------------


def _payload(reminder: Reminder) -> dict[str, Any]:
    return {"reminder_id": reminder.pk, "due_at": reminder.due_at.isoformat(), "kind": reminder.kind}


def _timeline(reminder: Reminder, kind: str, actor: Any, subject: str) -> None:
    timeline.activity_record(
        contact=reminder.contact,
        kind=kind,
        actor=actor,
        subject=subject,
        body=reminder.note,
        source=REMINDER_SOURCE,
        payload=_payload(reminder),
    )


def reminders_timeline_record(reminders: list[Reminder], *, kind: str, subject: str) -> None:
    """Timeline rows (no actor: the system did it) for nudges made or closed automatically, one insert.

    ``subject`` may use ``{kind}``, the reminder's kind ("Keep in touch", "Awaiting reply").
    """
    if reminders:
        timeline.activity_record_many(
            [
                Activity(
                    contact_id=reminder.contact_id,
                    kind=kind,
                    subject=subject.format(kind=reminder.get_kind_display()),
                    body=reminder.note,
                    source=REMINDER_SOURCE,
                    payload=_payload(reminder),
                )
                for reminder in reminders
            ]
        )


def _validate_recurrence(recurrence: str, interval_days: int | None) -> int | None:
    if recurrence not in Reminder.Recurrence.values:
        raise ValidationError({"recurrence": "Unknown recurrence."})
    if recurrence == Reminder.Recurrence.EVERY_N_DAYS:
        if not interval_days or interval_days < 1:
            raise ValidationError({"interval_days": "Say every how many days."})
        return interval_days
    return None


@transaction.atomic
def reminder_create(
    *,
    actor: Any,
    contact: Contact,
    assignee: Any,
    due_at: datetime,
    note: str = "",
    recurrence: str = Reminder.Recurrence.NONE,
    interval_days: int | None = None,
) -> Reminder:
    """A manual reminder for ``assignee`` (PermissionDenied unless ``reminder_can_assign``)."""
    if timezone.is_naive(due_at):
        raise ValueError("due_at must be aware: parse it in the user's time zone.")
    if not reminder_can_assign(actor=actor, assignee=assignee, contact=contact):
        raise PermissionDenied("You can set reminders for yourself, and managers for their teams.")
    interval_days = _validate_recurrence(recurrence, interval_days)
    reminder = Reminder.objects.create(
        contact=contact,
        assignee=assignee,
        created_by=actor,
        kind=Reminder.Kind.MANUAL,
        due_at=due_at,
        note=note.strip(),
        recurrence=recurrence,
        interval_days=interval_days,
        series_start=due_at if recurrence else None,
        notify_at=due_at,
    )
    who = "" if assignee.pk == actor.pk else f" for {assignee}"
    _timeline(reminder, Activity.Kind.REMINDER_CREATED, actor, f"Reminder set{who}")
    return reminder


def _step(reminder: Reminder, occurrences: int) -> relativedelta:
    if reminder.recurrence == Reminder.Recurrence.DAILY:
        return relativedelta(days=occurrences)
    if reminder.recurrence == Reminder.Recurrence.WEEKLY:
        return relativedelta(weeks=occurrences)
    if reminder.recurrence == Reminder.Recurrence.MONTHLY:
        return relativedelta(months=occurrences)
    return relativedelta(days=occurrences * (reminder.interval_days or 1))


def next_occurrence(reminder: Reminder, *, after: datetime, zone: ZoneInfo) -> tuple[datetime, int]:
    """The series' first occurrence later than ``after``: (due_at, its index in the series).

    Occurrences keep the wall-clock time of the first one in ``zone`` (the assignee's), so
    09:00 stays 09:00 across DST changes, and are counted from the first one, so a monthly
    series started on 31 January falls on 28/29 February, then 31 March.
    """
    start = (reminder.series_start or reminder.due_at).astimezone(zone)
    index = reminder.series_index
    for _ in range(MAX_COMPLETION_CATCH_UP):
        index += 1
        due = at_local(start + _step(reminder, index), zone)
        if due > after:
            return due, index
    raise ValueError("The series has no occurrence in reach.")


def _locked(reminder: Reminder) -> Reminder | None:
    """The reminder re-read under a row lock if it is still pending (so a double submit does nothing)."""
    return (
        Reminder.objects.select_for_update(of=("self",))
        .select_related("contact", "assignee")
        .filter(pk=reminder.pk, status__in=OPEN_REMINDER_STATUSES)
        .first()
    )


def _close(reminder: Reminder, *, actor: Any, status: str, now: datetime) -> None:
    reminder.status = status
    reminder.completed_at = now
    reminder.completed_by = actor
    reminder.notify_at = None
    reminder.save(update_fields=["status", "completed_at", "completed_by", "notify_at", "updated_at"])
    if reminder.kind == Reminder.Kind.CADENCE:
        # Done without logging a conversation: the next nudge comes one cadence from now.
        Contact.objects.filter(pk=reminder.contact_id, cadence_days__isnull=False).update(
            cadence_due_at=now + timedelta(days=reminder.contact.cadence_days or 0)
        )


@transaction.atomic
def reminder_complete(*, actor: Any, reminder: Reminder, now: datetime | None = None) -> Reminder | None:
    """Mark done; for a repeating reminder, create and return the next one (else None).

    Completing an already closed reminder does nothing.
    """
    if not reminder_can_act(actor=actor, reminder=reminder):
        raise PermissionDenied("This is not your reminder.")
    locked = _locked(reminder)
    if locked is None:
        return None
    now = now or timezone.now()
    _close(locked, actor=actor, status=Reminder.Status.DONE, now=now)
    _timeline(locked, Activity.Kind.REMINDER_DONE, actor, "Reminder done")
    if not locked.is_recurring:
        return None
    due_at, index = next_occurrence(locked, after=max(now, locked.due_at), zone=user_zone(locked.assignee))
    following = Reminder.objects.create(
        contact=locked.contact,
        assignee=locked.assignee,
        created_by=locked.created_by,
        kind=locked.kind,
        due_at=due_at,
        note=locked.note,
        recurrence=locked.recurrence,
        interval_days=locked.interval_days,
        series_start=locked.series_start or locked.due_at,
        series_index=index,
        notify_at=due_at,
    )
    _timeline(
        following, Activity.Kind.REMINDER_CREATED, actor, f"Next reminder set ({locked.get_recurrence_display()})"
    )
    return following


@transaction.atomic
def reminder_snooze(*, actor: Any, reminder: Reminder, until: datetime) -> Reminder:
    """Move a pending reminder to ``until`` (it falls due, and notifies, again then)."""
    if not reminder_can_act(actor=actor, reminder=reminder):
        raise PermissionDenied("This is not your reminder.")
    if until <= timezone.now():
        raise ValidationError("Snooze to a time in the future.")
    locked = _locked(reminder)
    if locked is None:
        return reminder
    locked.status = Reminder.Status.SNOOZED
    locked.due_at = until
    locked.notify_at = until
    locked.save(update_fields=["status", "due_at", "notify_at", "updated_at"])
    _timeline(locked, Activity.Kind.REMINDER_SNOOZED, actor, "Reminder snoozed")
    return locked


@transaction.atomic
def reminder_cancel(*, actor: Any, reminder: Reminder) -> None:
    """Drop a pending reminder (and so stop its series)."""
    if not reminder_can_act(actor=actor, reminder=reminder):
        raise PermissionDenied("This is not your reminder.")
    locked = _locked(reminder)
    if locked is not None:
        _close(locked, actor=actor, status=Reminder.Status.CANCELLED, now=timezone.now())
        _timeline(locked, Activity.Kind.SYSTEM, actor, "Reminder cancelled")


def snooze_until(preset: str, *, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """The instant a snooze preset means for someone in ``zone``."""
    now = now or timezone.now()
    local = now.astimezone(zone)
    if preset == "hour":
        return now + timedelta(hours=1)
    if preset == "tomorrow":
        return at_local(datetime.combine(local.date() + timedelta(days=1), MORNING), zone)
    if preset == "next_week":
        days_ahead = 7 - local.weekday()
        return at_local(datetime.combine(local.date() + timedelta(days=days_ahead), MORNING), zone)
    raise ValueError(f"Unknown snooze preset {preset!r}.")


def reminders_complete_many(*, actor: Any, reminders: Iterable[Reminder]) -> int:
    """Complete each reminder the actor may act on; return how many were completed."""
    done = 0
    for reminder in reminders:
        if reminder_can_act(actor=actor, reminder=reminder) and reminder.is_pending:
            reminder_complete(actor=actor, reminder=reminder)
            done += 1
    return done


def reminders_snooze_many(*, actor: Any, reminders: Iterable[Reminder], until: datetime) -> int:
    """Snooze each pending reminder the actor may act on; return how many were snoozed."""
    snoozed = 0
    for reminder in reminders:
        if reminder_can_act(actor=actor, reminder=reminder) and reminder.is_pending:
            reminder_snooze(actor=actor, reminder=reminder, until=until)
            snoozed += 1
    return snoozed


# --- cadences and the clocks ----------------------------------------------------------------


def cadence_clock(contact: Contact) -> datetime | None:
    """When ``contact``'s keep-in-touch nudge falls due: a cadence after the last interaction."""
    if not contact.cadence_days:
        return None
    return (contact.last_contacted_at or contact.created_at) + timedelta(days=contact.cadence_days)


def contact_cadence_refresh(*, contact: Contact) -> None:
    """Recompute the cadence clock after ``cadence_days`` changed (contact create/edit).

    No clock while a keep-in-touch nudge is pending: beat would only find it again.
    """
    pending = Reminder.objects.filter(
        contact=contact, kind=Reminder.Kind.CADENCE, status__in=OPEN_REMINDER_STATUSES
    ).exists()
    Contact.objects.filter(pk=contact.pk).update(cadence_due_at=None if pending else cadence_clock(contact))


@transaction.atomic
def contact_cadence_set(*, actor: Any, contact: Contact, cadence_days: int | None) -> Contact:
    """Set "keep in touch every N days" (None: no cadence). Owner or team manager only."""
    if not contact_can_set_cadence(actor=actor, contact=contact):
        raise PermissionDenied("Only the contact's owner or a manager sets the cadence.")
    if cadence_days is not None and not 1 <= cadence_days <= 3650:
        raise ValidationError({"cadence_days": "Between 1 and 3650 days."})
    contact.cadence_days = cadence_days
    contact.save(update_fields=["cadence_days", "updated_at"])
    if cadence_days is None:
        Reminder.objects.filter(contact=contact, kind=Reminder.Kind.CADENCE, status__in=OPEN_REMINDER_STATUSES).update(
            status=Reminder.Status.CANCELLED, completed_at=timezone.now(), notify_at=None
        )
    contact_cadence_refresh(contact=contact)
    return contact


def _reply_days() -> Coalesce:
    return Coalesce("team__reminder_settings__awaiting_reply_days", TeamSettings.DEFAULT_AWAITING_REPLY_DAYS)


@dataclass(frozen=True)
class Interaction:
    """A conversation just logged on a contact's timeline (what ``interactions_recorded`` reacts to)."""

    contact_id: int
    occurred_at: datetime
    direction: str
    kind: str


def interaction_recorded(*, contact_id: int, occurred_at: datetime, direction: str, kind: str) -> None:
    """Reset the clocks after a conversation was logged; close the nudges it answers.

    Called by ``activity_record`` for interactions; ``interactions_recorded`` for one.
    """
    interactions_recorded([Interaction(contact_id, occurred_at, direction, kind)])


def interactions_recorded(interactions: Iterable[Interaction]) -> None:
    """Reset the clocks after conversations were logged; close the nudges they answer.

    Called after the last contacted / inbound / outbound times moved, with at most one
    interaction per contact (``activity_record_many`` passes each contact's newest). Keep in
    touch: only the newest interaction restarts the clock and closes the pending nudge
    (importing an old call does not). Awaiting reply: the newest interaction, when an
    outbound email, starts the clock (and answers the previous nudge: the follow-up went
    out); an inbound reply newer than the last outbound email stops it and closes the nudge
    whatever else was logged since (a reply synced after a meeting still counts). Three
    statements whatever the number of contacts (per 1,000 clocks updated), plus the closing
    ones when a nudge was open.
    """
    by_contact = {interaction.contact_id: interaction for interaction in interactions}
    rows = (
        Contact.objects.filter(pk__in=by_contact)
        .values("pk", "cadence_days", "last_contacted_at")
        .annotate(reply_days=_reply_days(), last_email_sent=last_email_sent())
        .order_by()
    )
    clocks: dict[int, dict[str, Any]] = {}
    closing: dict[int, set[str]] = {}
    for row in rows:
        interaction = by_contact[row["pk"]]
        occurred_at, direction = interaction.occurred_at, interaction.direction
        newest = row["last_contacted_at"] == occurred_at
        contact_clocks: dict[str, Any] = {}
        contact_closing: set[str] = set()
        if newest:
            if row["cadence_days"]:
                contact_clocks["cadence_due_at"] = occurred_at + timedelta(days=row["cadence_days"])
            contact_closing.add(Reminder.Kind.CADENCE)
        if newest and interaction.kind == Activity.Kind.EMAIL and direction == Activity.Direction.OUTBOUND:
            contact_clocks["reply_due_at"] = occurred_at + timedelta(days=row["reply_days"])
            contact_closing.add(Reminder.Kind.AWAITING_REPLY)
        elif direction == Activity.Direction.INBOUND and (
            row["last_email_sent"] is None or occurred_at > row["last_email_sent"]
        ):
            contact_clocks["reply_due_at"] = None
            contact_closing.add(Reminder.Kind.AWAITING_REPLY)
        if contact_clocks:
            clocks[row["pk"]] = contact_clocks
        if contact_closing:
            closing[row["pk"]] = contact_closing
    rows_update(Contact, clocks)
    if closing:
        # Read first: the UPDATE and the timeline rows only when a nudge was actually open.
        answered = [
            reminder
            for reminder in Reminder.objects.filter(
                contact_id__in=closing,
                kind__in={kind for kinds in closing.values() for kind in kinds},
                status__in=OPEN_REMINDER_STATUSES,
            ).only("id", "contact_id", "kind", "due_at", "note")
            if reminder.kind in closing[reminder.contact_id]
        ]
        if answered:
            Reminder.objects.filter(pk__in=[reminder.pk for reminder in answered]).update(
                status=Reminder.Status.DONE, completed_at=timezone.now(), notify_at=None
            )
            reminders_timeline_record(
                answered, kind=Activity.Kind.REMINDER_DONE, subject="{kind} reminder done: conversation logged"
            )


def contact_clocks_recompute(*, contact_id: int) -> None:
    """Recompute both clocks from the timeline, after a logged interaction was edited or deleted.

    Keep in touch: a cadence after the later of the last interaction and the last
    keep-in-touch nudge closed (none while one is pending). Awaiting reply: the team's delay
    after the last outbound email, unless an inbound interaction came since or that email
    was nudged about already. Pending nudges are left as they are.
    """
    contact = (
        Contact.objects.filter(pk=contact_id)
        .annotate(reply_days=_reply_days(), last_email_sent=last_email_sent())
        .first()
    )
    if contact is None:
        return
    nudges = Reminder.objects.filter(contact_id=contact_id)
    cadence_due_at = None
    if (
        contact.cadence_days
        and not nudges.filter(kind=Reminder.Kind.CADENCE, status__in=OPEN_REMINDER_STATUSES).exists()
    ):
        closed = nudges.filter(kind=Reminder.Kind.CADENCE, completed_at__isnull=False).aggregate(at=Max("completed_at"))
        since = max(at for at in (contact.last_contacted_at or contact.created_at, closed["at"]) if at is not None)
        cadence_due_at = since + timedelta(days=contact.cadence_days)
    reply_due_at = None
    sent = contact.last_email_sent
    if (
        sent is not None
        and (contact.last_inbound_at is None or contact.last_inbound_at < sent)
        and not nudges.filter(kind=Reminder.Kind.AWAITING_REPLY, due_at__gt=sent).exists()
    ):
        reply_due_at = sent + timedelta(days=contact.reply_days)
    Contact.objects.filter(pk=contact_id).update(cadence_due_at=cadence_due_at, reply_due_at=reply_due_at)


@transaction.atomic
def team_settings_set(*, actor: Any, team: Any, awaiting_reply_days: int) -> TeamSettings:
    """Set a team's awaiting-reply delay (its managers and admins only).

    Applies to emails sent from now on: clocks already running keep their time.
    """
    if not _manages_team(actor, team.pk):
        raise PermissionDenied("Only the team's managers change its settings.")
    if not 1 <= awaiting_reply_days <= 60:
        raise ValidationError({"awaiting_reply_days": "Between 1 and 60 days."})
    team_settings, _ = TeamSettings.objects.update_or_create(
        team=team, defaults={"awaiting_reply_days": awaiting_reply_days}
    )
    return team_settings


def reminders_erase(contact: Contact) -> None:
    """Erasure: delete the contact's reminders (and, cascading, their notifications)."""
    Reminder.objects.filter(contact=contact).delete()
