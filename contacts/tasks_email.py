"""Celery tasks of the email pipeline: IMAP mailbox sync (imported by ContactsConfig.ready())."""

from __future__ import annotations

from celery import shared_task

from socialcrm import outbox


@shared_task(name="contacts.tasks_email.sync_mailboxes", ignore_result=True)
def sync_mailboxes() -> int:
    """Beat: queue one sync per mailbox that is due; return how many were queued."""
    from contacts.email.imap import mailboxes_due

    due = mailboxes_due()
    for connection_id in due:
        outbox.enqueue(sync_mailbox, connection_id)
    return len(due)


@shared_task(name="contacts.tasks_email.sync_mailbox", ignore_result=True)
def sync_mailbox(connection_id: int) -> int:
    """Sync one mailbox under its lease; return the timeline entries added (0 if busy or failed).

    Failures are not retried here: they are stored on the connection and the next beat tick
    (after ``EMAIL_IMAP_SYNC_MINUTES``) tries again.
    """
    from contacts.email.imap import mailbox_claim, mailbox_release, mailbox_sync

    connection = mailbox_claim(connection_id)
    if connection is None:
        return 0
    try:
        result = mailbox_sync(connection=connection)
    finally:
        mailbox_release(connection)
    if result is None:
        return 0
    return result.inbox.entries_created + (result.sent.entries_created if result.sent else 0)


# The same limits as the contact import's task: a 50 MB mailbox takes about a minute, and the
# hard limit stays below the broker's visibility timeout (an hour), so it is never redelivered mid-run.
@shared_task(name="contacts.tasks_email.email_upload_run", ignore_result=True, soft_time_limit=1200, time_limit=1500)
def email_upload_run(job_id: int) -> int:
    """Log a large email upload (contacts/email/services.py); return the timeline entries added."""
    from contacts.email.services import email_upload_run as run

    job = run(job_id=job_id)
    return int(job.counts.get("entries_created", 0)) if job is not None else 0
