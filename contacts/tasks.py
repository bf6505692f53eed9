"""Celery interface of the contacts app: the reminders' beat ticks (see CELERY_BEAT_SCHEDULE).

Each tick loads its work from the database (the schedule lives there, never in Celery
ETAs), is safe to run twice or concurrently, and works in bounded batches so one tick
never outlives the next.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from contacts.services import imports, jobs, notifications, nudges

MAX_BATCHES = 10  # per tick; what is left waits for the next tick


@shared_task(name="contacts.tasks.reminders_due_tick", ignore_result=True)
def reminders_due_tick() -> int:
    """Make the "reminder due" notifications whose time has come and enqueue their sending.

    Sending is one ``notification_send`` task each, so the tick stays a few indexed queries.
    """
    started = timezone.now()
    for _ in range(MAX_BATCHES):
        if notifications.due_notifications_make(now=started) < notifications.BATCH:
            break
    return notifications.notifications_enqueue(since=started, now=started)


@shared_task(name="contacts.tasks.notification_send", ignore_result=True)
def notification_send(notification_id: int) -> bool:
    """Email one notification unless it was sent already (safe to run twice)."""
    return notifications.notification_send(notification_id=notification_id)


@shared_task(name="contacts.tasks.reminders_nudge_tick", ignore_result=True)
def reminders_nudge_tick() -> int:
    """Make keep-in-touch and awaiting-reply nudges for the breaches found since the last tick."""
    looked_at = 0
    for make in (nudges.cadence_nudges_make, nudges.awaiting_reply_nudges_make):
        for _ in range(MAX_BATCHES):
            claimed = make()
            looked_at += claimed
            if claimed < nudges.BATCH:
                break
    return looked_at


@shared_task(name="contacts.tasks.reminders_digest_tick", ignore_result=True)
def reminders_digest_tick() -> int:
    """Make the daily digests due in each user's time zone and enqueue their sending."""
    started = timezone.now()
    notifications.digests_make(now=started)
    return notifications.notifications_enqueue(since=started, now=started)


# A 100,000-row file takes well under a minute; the limits leave room for a loaded worker
# and stay below the broker's visibility timeout (an hour), so it is never redelivered mid-run.
@shared_task(name="contacts.tasks.import_run", ignore_result=True, soft_time_limit=1200, time_limit=1500)
def import_run(job_id: int) -> int:
    """Write a confirmed contact import (contacts/services/imports.py); a redelivery does nothing."""
    job = imports.import_run(job_id=job_id)
    return job.processed_rows if job is not None else 0


@shared_task(name="contacts.tasks.stalled_jobs_fail", ignore_result=True)
def stalled_jobs_fail() -> int:
    """Beat: fail the imports and email uploads whose worker was lost (contacts/services/jobs.py)."""
    return jobs.stalled_jobs_fail()
