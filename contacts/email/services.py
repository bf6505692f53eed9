"""Writes of the email pages: uploads (logged at once, or by a background job), a user's
mailbox connection and a team's mail settings."""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Callable
from typing import Any, BinaryIO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contacts.email.crypto import encrypt
from contacts.email.ingest import EmailAuditAction, IngestResult, Source, email_ingest
from contacts.email.parse import read_messages
from contacts.email.selectors import upload_contacts
from contacts.models import Contact, EmailUploadJob, MailboxConnection, Organization, TeamSettings
from contacts.services.jobs import job_cancel, job_cancelled, job_claim, job_end
from socialcrm import outbox
from socialcrm.audit.services import audit_record
from socialcrm.models import Team

logger = logging.getLogger(__name__)

# A background upload keeps the first this many unreadable messages for its summary (all are counted).
BROKEN_SHOWN = 200


def _ingest_upload(
    *,
    actor: Any,
    target: Contact | Organization | None,
    stream: BinaryIO,
    on_chunk: Callable[[IngestResult], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> IngestResult:
    max_bytes = settings.EMAIL_MAX_MESSAGE_BYTES
    return email_ingest(
        actor=actor,
        source=Source.UPLOAD,
        raw_messages=read_messages(stream, max_bytes=max_bytes),
        contacts=upload_contacts(
            user=actor,
            contact=target if isinstance(target, Contact) else None,
            organization=target if isinstance(target, Organization) else None,
        ),
        own_addresses=[actor.email],
        max_bytes=max_bytes,
        on_chunk=on_chunk,
        cancelled=cancelled,
    )


def _audit_upload(actor: Any, target: Contact | Organization | None) -> None:
    # Who uploaded mail about whom (ids only); a global upload names no object.
    object_type = "contact" if isinstance(target, Contact) else "organization" if target is not None else ""
    audit_record(
        actor=actor,
        action=EmailAuditAction.LOGGED,
        object_type=object_type,
        object_id=target.pk if target is not None else "",
    )


def email_upload_log(*, actor: Any, target: Contact | Organization | None, stream: BinaryIO) -> IngestResult:
    """Log a small upload (``.eml`` or ``.mbox``) now, on ``target`` or (None) every contact ``actor`` sees."""
    result = _ingest_upload(actor=actor, target=target, stream=stream)
    _audit_upload(actor, target)
    return result


@transaction.atomic
def email_upload_queue(
    *, actor: Any, target: Contact | Organization | None, file_name: str, data: bytes
) -> EmailUploadJob:
    """Keep a large upload on a job and queue the task that logs it (``email_upload_run``)."""
    job = EmailUploadJob.objects.create(
        created_by=actor,
        contact=target if isinstance(target, Contact) else None,
        organization=target if isinstance(target, Organization) else None,
        file_name=file_name[:255] or "mail",
        size=len(data),
        data=data,
    )
    _audit_upload(actor, target)
    outbox.enqueue("contacts.tasks_email.email_upload_run", job.pk)
    return job


def _summary(result: IngestResult) -> dict[str, Any]:
    counts = result.as_dict()
    counts["broken"] = counts["broken"][:BROKEN_SHOWN]
    return counts


def _failure(counts: dict[str, Any], exc: BaseException | None) -> str:
    """Why the job failed, for the person who uploaded the file; "" when it did not."""
    messages = counts.get("messages", 0)
    done = f"{messages:,} message{'s' if messages != 1 else ''}"
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"It took longer than allowed and stopped after {done}: split the mailbox and upload the rest."
    if exc is not None:
        return f"It stopped after {done}: {type(exc).__name__}: {str(exc)[:300]}"
    if messages and counts["broken_count"] == messages:
        first = counts["broken"][0]
        return (
            "No message in this file could be read: it is not a mailbox (.mbox) or email (.eml) file, "
            f"or it is damaged. Message {first['index']}: {first['reason']}."
        )
    return ""


def email_upload_run(*, job_id: int) -> EmailUploadJob | None:
    """Log a queued upload's messages (the task's body); a redelivered task finds it claimed and does nothing.

    Each batch of messages commits with the job's progress (``counts``, ``bytes_read``), so
    the page shows what is on the timelines, and what was logged before a failure or a
    cancellation stays (uploading the file again skips it: Message-ID dedupe). Cancelled, it
    stops before the next batch. Done, failed or cancelled, the file is deleted. A file in
    which no message could be read fails the job.
    """
    if not job_claim(EmailUploadJob, job_id):
        return None
    job = EmailUploadJob.objects.select_related("created_by", "contact", "organization").get(pk=job_id)
    stream = io.BytesIO(job.data)
    job.data = b""

    def save_progress(result: IngestResult) -> None:
        EmailUploadJob.objects.filter(pk=job.pk).update(
            counts=_summary(result), bytes_read=stream.tell(), updated_at=timezone.now()
        )

    error: BaseException | None = None
    try:
        result = _ingest_upload(
            actor=job.created_by,
            target=job.contact or job.organization,
            stream=stream,
            on_chunk=save_progress,
            cancelled=lambda: job_cancelled(EmailUploadJob, job.pk),
        )
    except Exception as exc:  # any failure ends the job visibly; the batches committed before stay
        logger.exception("Email upload %s failed", job.pk)
        error = exc
    if error is None and not result.stopped:
        job.counts, job.bytes_read = _summary(result), job.size
    else:  # what the batches committed
        job.counts, job.bytes_read = EmailUploadJob.objects.filter(pk=job.pk).values_list("counts", "bytes_read").get()
    job.failure = "" if error is None and result.stopped else _failure(job.counts, error)
    status = EmailUploadJob.Status.FAILED if job.failure else EmailUploadJob.Status.DONE
    job_end(job, status, ["failure", "data", "bytes_read", "counts"])
    return job


def email_upload_cancel(*, actor: Any, job: EmailUploadJob) -> EmailUploadJob:
    """Cancel a background upload (``contacts.services.jobs.job_cancel``); a queued one's file is deleted now."""
    return job_cancel(actor=actor, job=job, action=EmailAuditAction.UPLOAD_CANCELLED, discard={"data": b""})


def email_upload_jobs_erase(contact: Contact) -> None:
    """Erasure: delete the uploads made on ``contact``'s page, with any file still waiting."""
    EmailUploadJob.objects.filter(contact=contact).delete()


@transaction.atomic
def mailbox_connect(
    *, actor: Any, host: str, port: int, use_ssl: bool, username: str, password: str
) -> MailboxConnection:
    """Connect (or reconnect) ``actor``'s mailbox, password encrypted; queue a first sync after commit.

    Changing the server or account starts the folders from scratch (Message-ID dedupe keeps
    already logged mail from doubling).
    """
    connection = MailboxConnection.objects.select_for_update().filter(user=actor).first()
    same_account = connection is not None and (connection.host, connection.username) == (host, username)
    if connection is None or not same_account:
        if connection is not None:
            connection.delete()
        connection = MailboxConnection(user=actor)
    connection.host, connection.port, connection.use_ssl, connection.username = host, port, use_ssl, username
    connection.password_encrypted = encrypt(password)
    connection.last_error = ""
    connection.last_error_at = None
    connection.save()
    outbox.enqueue("contacts.tasks_email.sync_mailbox", connection.pk)
    return connection


@transaction.atomic
def mailbox_disconnect(*, actor: Any) -> bool:
    """Forget ``actor``'s mailbox and its password (what was logged stays on the timelines)."""
    deleted, _ = MailboxConnection.objects.filter(user=actor).delete()
    return bool(deleted)


@transaction.atomic
def team_mail_settings_update(*, actor: Any, team: Team, own_domains: list[str]) -> TeamSettings:
    """Set ``team``'s own email domains (mail from them is outbound)."""
    row, _ = TeamSettings.objects.select_for_update().get_or_create(team=team)
    row.own_domains = own_domains
    row.save(update_fields=["own_domains"])
    return row


@transaction.atomic
def dropbox_token_rotate(*, actor: Any, team: Team) -> str:
    """Give ``team`` a new dropbox token (the old webhook address stops working at once); return it."""
    row, _ = TeamSettings.objects.select_for_update().get_or_create(team=team)
    row.dropbox_token = secrets.token_hex(16)
    row.save(update_fields=["dropbox_token"])
    return row.dropbox_token
