"""Background jobs with a progress page (contact imports, email uploads): what they share.

A job (``contacts.models.BackgroundJob``) is claimed by its Celery task, moved forward in
committed batches that save its progress, and finished as done or failed with a reason.
Its owner may cancel it (``job_cancel``): the task asks between two batches
(``job_cancelled``), stops there and ends it with ``job_end``, which never turns a
cancelled job back into a done or failed one. A task killed outright (out of memory, the
hard time limit) cannot say so itself: a beat tick (``stalled_jobs_fail``) fails the jobs
that made no progress for ``STALLED_AFTER``, so none shows "running" for ever.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from contacts.models import BackgroundJob, EmailUploadJob, ImportJob, ImportPlanBatch
from socialcrm.audit.services import audit_record

# Longer than any job task's hard time limit (25 minutes): a live task saves progress far
# more often than that, so a running job this quiet has lost its worker.
STALLED_AFTER = timedelta(minutes=30)
STALLED_REASON = "It stopped without finishing: the worker running it was lost. What was done before that stays."

Job = TypeVar("Job", bound=BackgroundJob)


def job_claim(model: type[BackgroundJob], pk: int, **fields: Any) -> bool:
    """Move job ``pk`` from queued to running (setting ``fields`` too); False if it was not queued.

    One conditional UPDATE, so of two deliveries of the same task only one does the work.
    """
    claimed = model._default_manager.filter(pk=pk, status=BackgroundJob.QUEUED).update(
        status=BackgroundJob.RUNNING, updated_at=timezone.now(), **fields
    )
    return bool(claimed)


def job_cancelled(model: type[BackgroundJob], pk: int) -> bool:
    """Whether job ``pk`` was cancelled: its task asks before each batch and stops there."""
    return model._default_manager.filter(pk=pk, status=BackgroundJob.CANCELLED).exists()


@transaction.atomic
def job_cancel(*, actor: Any, job: Job, action: str, discard: Mapping[str, Any] | None = None) -> Job:
    """Cancel ``job`` for ``actor`` (audited as ``action``); return it as it is now.

    A queued job ends at once, its stored input emptied (``discard``: the fields to reset,
    as its task does when it ends); its task, if delivered later, finds nothing to claim.
    A running job is marked cancelled and ends when its task reaches the next batch: what
    was written stays. Cancelling a cancelled job does nothing; any other (done, failed,
    undone, an import still in preview) raises ``ValidationError``.

    Conditional UPDATEs, not a read then a write: the task may claim or end the job meanwhile.
    """
    manager = job._meta.model._default_manager
    now = timezone.now()
    ended = manager.filter(pk=job.pk, status=BackgroundJob.QUEUED).update(
        status=BackgroundJob.CANCELLED, finished_at=now, updated_at=now, **(discard or {})
    )
    stopping = not ended and manager.filter(pk=job.pk, status=BackgroundJob.RUNNING).update(
        status=BackgroundJob.CANCELLED, updated_at=now
    )
    job.refresh_from_db(fields=["status", "finished_at", "updated_at"])
    if ended or stopping:
        audit_record(actor=actor, action=action, object_type=job._meta.model_name or "", object_id=job.pk)
    elif job.status != BackgroundJob.CANCELLED:
        raise ValidationError(
            "It has already finished: there is nothing left to cancel."
            if job.finished_at is not None
            else "It has not been started: there is nothing to cancel."
        )
    return job


def job_end(job: BackgroundJob, status: str, fields: list[str]) -> None:
    """Save ``job`` as ended with ``status`` and ``fields``, in one UPDATE; cancelled, it stays cancelled.

    The owner may cancel between the task's last look (``job_cancelled``) and this: the work
    is then all done, but the page says cancelled, as the owner asked.
    """
    now = timezone.now()
    kept = models.Case(
        models.When(status=BackgroundJob.CANCELLED, then=models.Value(BackgroundJob.CANCELLED)),
        default=models.Value(status),
    )
    manager = job._meta.model._default_manager
    manager.filter(pk=job.pk).update(
        status=kept, finished_at=now, updated_at=now, **{name: getattr(job, name) for name in fields}
    )
    job.refresh_from_db(fields=["status", "finished_at", "updated_at"])


@transaction.atomic
def stalled_jobs_fail(*, now: datetime | None = None) -> int:
    """Fail the running jobs with no progress for ``STALLED_AFTER``; return how many ended.

    An email upload's file is deleted with it, an import's stored plan (``ImportPlanBatch``)
    too: it is never written again, a retry plans from the file. A job cancelled while
    running whose task was lost the same way ends as cancelled (never failed, never run
    again). Queued jobs are left alone: their task may still be waiting in the outbox for
    the broker to come back. A constant number of queries however many jobs end.
    """
    now = now or timezone.now()
    imports = _stalled_end(ImportJob, now)
    uploads = _stalled_end(EmailUploadJob, now, data=b"")
    ImportPlanBatch.objects.filter(job__in=imports).delete()
    return len(imports) + len(uploads)


def _stalled_end(model: type[BackgroundJob], now: datetime, **discard: Any) -> list[int]:
    """End ``model``'s stalled jobs (``stalled_jobs_fail``), resetting the ``discard`` fields; return their ids.

    The ids are locked first: a task that saves progress meanwhile takes its job out of
    them, so the jobs ended are exactly the ones returned.
    """
    stalled = model._default_manager.filter(
        models.Q(status=BackgroundJob.RUNNING) | models.Q(status=BackgroundJob.CANCELLED, finished_at=None),
        updated_at__lt=now - STALLED_AFTER,
    )
    ids = list(stalled.select_for_update().values_list("pk", flat=True))
    ended = model._default_manager.filter(pk__in=ids)
    ended.filter(status=BackgroundJob.RUNNING).update(
        status=BackgroundJob.FAILED, failure=STALLED_REASON, finished_at=now, updated_at=now, **discard
    )
    ended.filter(status=BackgroundJob.CANCELLED).update(finished_at=now, updated_at=now, **discard)
    return ids
