"""Outreach nudges made by beat: keep-in-touch (cadence) and awaiting-reply reminders.

Each finds its breaches with one range scan of a partial index on the contact's stored
clock (``cadence_due_at`` / ``reply_due_at``, kept by ``contacts.services.reminders``),
claims them with ``SKIP LOCKED`` so two ticks never take the same contacts, asks the
processing gate whether the people may be approached for ``sales_outreach`` (in bulk: one
query per batch) and, if so, makes the nudge. The clock is then cleared: one nudge per
breach, whatever the gate said; the next conversation restarts it.
``reminder_one_pending_nudge`` makes a second pending nudge of the same kind impossible
even if two ticks raced past the lock.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from contacts.models import OPEN_REMINDER_STATUSES, Activity, Contact, Reminder
from contacts.registry import gate_allowed_ids, processing
from contacts.services import reminders

OUTREACH_PURPOSE = "sales_outreach"
BATCH = 500


def _claim(queryset: QuerySet[Contact], limit: int) -> list[Contact]:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    return list(queryset.select_for_update(skip_locked=True, of=("self",))[:limit])


def _allowed(contacts: list[Contact]) -> set[int]:
    """The claimed contacts the gate lets us approach now (one query per 1,000, not one each)."""
    return gate_allowed_ids([contact.pk for contact in contacts], OUTREACH_PURPOSE)


def _nudge(
    contact: Contact, assignee_id: int | None, kind: str, due_at: datetime, allowed: set[int]
) -> Reminder | None:
    if contact.archived or assignee_id is None or contact.pk not in allowed:
        return None
    return Reminder(contact=contact, assignee_id=assignee_id, kind=kind, due_at=due_at, notify_at=due_at)


def _insert(nudges: list[Reminder], kind: str) -> None:
    """Insert the nudges (but where one is pending already) and write their timeline rows."""
    if not nudges:
        return
    # The claimed contacts are locked, so no other tick nudges them meanwhile; a pending nudge
    # left from before is skipped here rather than by ON CONFLICT, which would not return the
    # new rows' ids the timeline needs.
    pending = set(
        Reminder.objects.filter(
            kind=kind, status__in=OPEN_REMINDER_STATUSES, contact_id__in=[nudge.contact_id for nudge in nudges]
        ).values_list("contact_id", flat=True)
    )
    fresh = Reminder.objects.bulk_create([nudge for nudge in nudges if nudge.contact_id not in pending])
    reminders.reminders_timeline_record(fresh, kind=Activity.Kind.REMINDER_CREATED, subject="{kind} reminder set")


@processing(purpose=OUTREACH_PURPOSE)
def cadence_nudges_make(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Make a keep-in-touch reminder for the owner of each contact past its cadence.

    Returns how many contacts were looked at (nudged or not); call again while it is ``limit``.
    """
    now = now or timezone.now()
    with transaction.atomic():
        contacts = _claim(
            Contact.objects.filter(cadence_due_at__lte=now)
            .order_by("cadence_due_at")
            .only("id", "team_id", "owner_id", "archived", "cadence_due_at"),
            limit,
        )
        allowed = _allowed(contacts)
        nudges = [
            nudge
            for contact in contacts
            if (
                nudge := _nudge(
                    contact, contact.owner_id, Reminder.Kind.CADENCE, contact.cadence_due_at or now, allowed
                )
            )
        ]
        _insert(nudges, Reminder.Kind.CADENCE)
        Contact.objects.filter(pk__in=[contact.pk for contact in contacts]).update(cadence_due_at=None)
    return len(contacts)


@processing(purpose=OUTREACH_PURPOSE)
def awaiting_reply_nudges_make(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Nudge the sender of each email that has had no reply for the team's ``awaiting_reply_days``.

    The sender is the author of the last outbound email, else the contact's owner. Returns
    how many contacts were looked at.
    """
    now = now or timezone.now()
    last_sender = (
        Activity.objects.filter(contact=OuterRef("pk"), kind=Activity.Kind.EMAIL, direction=Activity.Direction.OUTBOUND)
        .order_by("-occurred_at", "-id")
        .values("actor_id")[:1]
    )
    with transaction.atomic():
        contacts = _claim(
            Contact.objects.filter(reply_due_at__lte=now)
            .order_by("reply_due_at")
            .only("id", "team_id", "owner_id", "archived", "reply_due_at")
            .annotate(sender_id=Subquery(last_sender)),
            limit,
        )
        allowed = _allowed(contacts)
        nudges = [
            nudge
            for contact in contacts
            if (
                nudge := _nudge(
                    contact,
                    contact.sender_id or contact.owner_id,  # type: ignore[attr-defined]
                    Reminder.Kind.AWAITING_REPLY,
                    contact.reply_due_at or now,
                    allowed,
                )
            )
        ]
        _insert(nudges, Reminder.Kind.AWAITING_REPLY)
        Contact.objects.filter(pk__in=[contact.pk for contact in contacts]).update(reply_due_at=None)
    return len(contacts)
