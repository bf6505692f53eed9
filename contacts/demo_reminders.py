"""Demo reminders for ``manage.py demo``: every state, cadences on some contacts, a few overdue.

Runs after the contacts' loader (order 150) and uses the demo team's contacts. Skipped when
the demo sales user already has reminders, so running the demo twice adds nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from contacts.models import Contact, Reminder
from contacts.services.reminders import cadence_clock

if TYPE_CHECKING:
    from socialcrm.registry import DemoContext

SEED = 20_240_605
CADENCES = (14, 30, 60, 90)

_NOTES = (
    "Send the pilot summary",
    "Ask about the security review",
    "Check in after the conference",
    "Follow up on pricing",
    "Share the integration guide",
    "Book the quarterly review",
)


@transaction.atomic
def load_demo_reminders(context: DemoContext) -> None:
    if Reminder.objects.filter(assignee=context.sales).exists():
        context.say("Demo reminders already there; skipped.")
        return
    rng = random.Random(SEED)  # noqa: S311 -- demo data, not security
    now = timezone.now()
    contacts = list(Contact.objects.filter(team=context.team, archived=False).order_by("id")[:60])
    if not contacts:
        context.say("No demo contacts; no reminders.")
        return
    reminders: list[Reminder] = []

    def add(
        contact: Contact, assignee: Any, due_in: timedelta, status: str = Reminder.Status.OPEN, **extra: Any
    ) -> None:
        due_at = now + due_in
        closed = status in (Reminder.Status.DONE, Reminder.Status.CANCELLED)
        reminders.append(
            Reminder(
                contact=contact,
                assignee=assignee,
                created_by=context.manager if assignee != context.manager and rng.random() < 0.3 else assignee,
                due_at=due_at,
                note=rng.choice(_NOTES),
                status=status,
                completed_at=due_at + timedelta(hours=2) if closed else None,
                completed_by=assignee if closed else None,
                # Demo reminders already past due do not all email on the first tick.
                notify_at=due_at if not closed and due_in > timedelta(0) else None,
                **extra,
            )
        )

    for index, contact in enumerate(contacts[:24]):
        assignee = context.sales if index % 3 else context.manager
        bucket = index % 6
        if bucket == 0:
            add(contact, assignee, -timedelta(days=rng.randint(1, 9)))  # overdue
        elif bucket == 1:
            add(contact, assignee, timedelta(hours=rng.randint(1, 8)))  # today
        elif bucket == 2:
            add(contact, assignee, timedelta(days=rng.randint(2, 20)))  # upcoming
        elif bucket == 3:
            add(contact, assignee, -timedelta(days=rng.randint(2, 40)), Reminder.Status.DONE)
        elif bucket == 4:
            add(contact, assignee, timedelta(days=rng.randint(1, 3)), Reminder.Status.SNOOZED)
        else:
            add(contact, assignee, -timedelta(days=rng.randint(5, 30)), Reminder.Status.CANCELLED)
    weekly = contacts[24]
    add(
        weekly,
        context.sales,
        timedelta(days=2),
        recurrence=Reminder.Recurrence.WEEKLY,
        series_start=now + timedelta(days=2),
    )
    Reminder.objects.bulk_create(reminders)

    # Keep-in-touch cadences: the clocks start from each contact's last conversation, so
    # some are past due and beat makes their nudges on its next tick.
    cadenced = contacts[25:45]
    for contact in cadenced:
        contact.cadence_days = rng.choice(CADENCES)
        contact.cadence_due_at = cadence_clock(contact)
    Contact.objects.bulk_update(cadenced, ["cadence_days", "cadence_due_at"])
    context.say(f"{len(reminders)} reminders in every state; cadences on {len(cadenced)} contacts.")
