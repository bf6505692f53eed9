"""Notifications: made from the schedule in the database by beat, each sent exactly once.

Three steps, each safe to run twice or concurrently, and to crash half-way:

1. ``due_notifications_make`` claims reminders whose ``notify_at`` has come (``SKIP LOCKED``),
   inserts one ``Notification`` per (reminder, due time) under a unique idempotency key and
   clears ``notify_at`` in the same transaction;
2. ``digests_make`` inserts one digest notification per user and local date during their
   chosen hour in their time zone (or the hour after, to catch up after an outage);
3. ``notifications_enqueue`` (in the same tick) enqueues one ``contacts.tasks.notification_send``
   task per notification just made, so the tick itself only finds and claims; each task
   sends one notification: it is locked (``SKIP LOCKED``; a duplicate task skips it),
   emailed, and marked sent in one transaction, so a crash before the commit leaves it
   unsent, and a duplicate finds it sent. Notifications still unsent ``RESEND_AFTER`` later
   (a failed send, a lost task) are enqueued again by the following ticks, a few at a time.

Nothing is scheduled as a Celery ETA: beat ticks every minute and the schedule is the data.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from contacts.models import OPEN_REMINDER_STATUSES, Notification, NotificationPreference, Reminder
from contacts.selectors_reminders import contact_names, digest_items, visible_reminders
from contacts.services.reminders import user_zone, zone_named
from socialcrm import outbox
from socialcrm.models import User

BATCH = 500
SEND_TASK = "contacts.tasks.notification_send"
RESEND_AFTER = timedelta(minutes=15)  # unsent this long after being made: its send failed or its task was lost
RESEND_BATCH = 50  # per tick, so a mail server outage does not flood the queue
DIGEST_CATCH_UP_HOURS = 2  # the chosen hour and the next one


def site_link(url_name: str, **kwargs: Any) -> str:
    """An absolute link back into the app, for emails and calendar entries."""
    return settings.SITE_URL + reverse(url_name, kwargs=kwargs or None)


def due_key(reminder_id: int, due_at: datetime) -> str:
    return f"due:{reminder_id}:{due_at.isoformat()}"


def digest_key(user_id: int, local_date: Any) -> str:
    return f"digest:{user_id}:{local_date.isoformat()}"


def digest_day(now: datetime, zone: Any, hour: int | None) -> date | None:
    """The local day whose digest is due at ``now``, or None outside the digest window.

    A digest goes out within its hour, or up to ``DIGEST_CATCH_UP_HOURS`` after it when beat
    was down (so never late in the evening for a morning digest); the window may run past
    midnight, and the digest then still belongs to the day it was meant for.
    """
    local = now.astimezone(zone)
    late = (local.hour - (NotificationPreference.DEFAULT_DIGEST_HOUR if hour is None else hour)) % 24
    if late >= DIGEST_CATCH_UP_HOURS:
        return None
    return (local - timedelta(hours=late)).date()


def due_notifications_make(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Make the "reminder due" notifications whose time has come; return how many reminders were claimed."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(notify_at__lte=now)
            .order_by("notify_at")
            .values_list("pk", "assignee_id", "due_at")[:limit]
        )
        Notification.objects.bulk_create(
            [
                Notification(user_id=assignee_id, kind=Notification.Kind.DUE, key=due_key(pk, due_at), reminder_id=pk)
                for pk, assignee_id, due_at in due
            ],
            ignore_conflicts=True,
        )
        Reminder.objects.filter(pk__in=[pk for pk, _, _ in due]).update(notify_at=None)
    return len(due)


def digests_make(*, now: datetime | None = None) -> int:
    """Make today's digest notification for each user within their digest window (``digest_day``); return how many.

    Only users with a reminder due within a day are considered (the digest is "overdue and
    today"); three queries per tick: the users, the keys already made, the insert.
    """
    now = now or timezone.now()
    # EXISTS per user: one probe of reminder_pending_idx (assignee, due_at) each, rather than
    # a DISTINCT over every overdue reminder in the database.
    has_due = Reminder.objects.filter(
        assignee=OuterRef("pk"), status__in=OPEN_REMINDER_STATUSES, due_at__lt=now + timedelta(days=1)
    )
    users = User.objects.filter(Exists(has_due), is_active=True).values(
        "pk", "time_zone", "notification_pref__digest_enabled", "notification_pref__digest_hour"
    )
    keys: dict[str, int] = {}
    for user in users:
        if user["notification_pref__digest_enabled"] is False:
            continue
        hour = user["notification_pref__digest_hour"]
        day = digest_day(now, zone_named(user["time_zone"]), hour)
        if day is not None:
            keys[digest_key(user["pk"], day)] = user["pk"]
    existing = set(Notification.objects.filter(key__in=list(keys)).values_list("key", flat=True))
    fresh = [
        Notification(user_id=user_id, kind=Notification.Kind.DIGEST, key=key)
        for key, user_id in keys.items()
        if key not in existing
    ]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def notifications_enqueue(*, since: datetime, now: datetime | None = None) -> int:
    """Enqueue a send task per unsent notification made since ``since`` (this tick) and per
    unsent one older than ``RESEND_AFTER`` (at most ``RESEND_BATCH``); return how many.

    Two indexed reads (``notification_unsent_idx``) and one outbox row per task. A
    notification enqueued twice is sent once: ``notification_send`` skips it when sent.
    """
    now = now or timezone.now()
    unsent = Notification.objects.filter(sent_at__isnull=True).order_by("created_at", "id")
    # At most what one tick makes (tasks.MAX_BATCHES batches); the rest is caught up as stale.
    fresh = list(unsent.filter(created_at__gte=since).values_list("pk", flat=True)[: BATCH * 10])
    stale = list(unsent.filter(created_at__lt=now - RESEND_AFTER).values_list("pk", flat=True)[:RESEND_BATCH])
    ids = list(dict.fromkeys([*stale, *fresh]))
    with transaction.atomic():
        for pk in ids:
            outbox.enqueue(SEND_TASK, pk)
    return len(ids)


def _wants_due_email(user: Any) -> bool:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference is None or preference.email_on_due


def _due_email(notification: Notification) -> tuple[str, str] | None:
    reminder = notification.reminder
    if (
        reminder is None
        or not reminder.is_pending
        or due_key(reminder.pk, reminder.due_at) != notification.key
        or not _wants_due_email(notification.user)
        or not visible_reminders(notification.user).filter(pk=reminder.pk).exists()
    ):
        # Done or snoozed since, no longer theirs to see, or the person opted out: in-app only.
        return None
    name = contact_names([reminder.contact])[reminder.contact_id]
    context = {
        "user": notification.user,
        "reminder": reminder,
        "name": name,
        "contact_url": site_link("contacts:detail", pk=reminder.contact_id),
        "reminders_url": site_link("contacts:reminders"),
    }
    with timezone.override(user_zone(notification.user)):
        body = render_to_string("contacts/email/reminder_due.txt", context)
    return f"[Social CRM] Reminder due: {name}", body


def _digest_email(notification: Notification, now: datetime) -> tuple[str, str] | None:
    zone = user_zone(notification.user)
    overdue, today = digest_items(user=notification.user, zone=zone, now=now)
    notification.summary = f"{len(overdue)} overdue, {len(today)} due later today" if overdue or today else ""
    if not notification.summary:
        return None
    names = contact_names(reminder.contact for reminder in [*overdue, *today])
    context = {
        "user": notification.user,
        "overdue": [(reminder, names[reminder.contact_id]) for reminder in overdue],
        "today": [(reminder, names[reminder.contact_id]) for reminder in today],
        "site_url": settings.SITE_URL,
        "reminders_url": site_link("contacts:reminders"),
        "preferences_url": site_link("contacts:notifications"),
    }
    with timezone.override(zone):
        body = render_to_string("contacts/email/digest.txt", context)
    return f"[Social CRM] Your reminders: {notification.summary}", body


def notification_send(*, notification_id: int, now: datetime | None = None) -> bool:
    """Email one notification unless it was sent already; True when an email went out.

    Locked with SKIP LOCKED: while one worker sends it, another skips it rather than waiting
    and sending it again. ``sent_at`` is set in the same transaction as the send; if sending
    raises, the transaction rolls back and the next tick tries again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user", "reminder__contact")
            .filter(Q(pk=notification_id) & Q(sent_at__isnull=True))
            .first()
        )
        if notification is None:
            return False
        user = notification.user
        message = None
        if user.is_active and user.email:
            if notification.kind == Notification.Kind.DUE:
                message = _due_email(notification)
            else:
                message = _digest_email(notification, now)
        if message is not None:
            send_mail(subject=message[0], message=message[1], from_email=None, recipient_list=[user.email])
        notification.sent_at = now
        notification.emailed = message is not None
        notification.save(update_fields=["sent_at", "emailed", "summary"])
    return message is not None


@transaction.atomic
def notification_preference_set(
    *, actor: Any, email_on_due: bool, digest_enabled: bool, digest_hour: int
) -> NotificationPreference:
    """Save how ``actor`` wants to hear about their reminders."""
    preference, _ = NotificationPreference.objects.update_or_create(
        user=actor,
        defaults={"email_on_due": email_on_due, "digest_enabled": digest_enabled, "digest_hour": digest_hour},
    )
    return preference


def notifications_mark_read(*, actor: Any, now: datetime | None = None) -> int:
    """Mark all of ``actor``'s notifications read; return how many were unread."""
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=now or timezone.now())
