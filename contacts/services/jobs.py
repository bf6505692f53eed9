"""Background jobs with a progress page (contact imports, email uploads): what they share.

A job (``contacts.models.BackgroundJob``) is claimed by its Celery task, moved forward in
committed batches that save its progress, and finished as done or failed with a reason.
A task killed outright (out of memory, the hard time limit) cannot say so itself: a beat
tick (``stalled_jobs_fail``) fails the jobs that made no progress for ``STALLED_AFTER``,
so none shows "running" for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from contacts.models import BackgroundJob, EmailUploadJob, ImportJob

# Longer than any job task's hard time limit (25 minutes): a live task saves progress far
# more often than that, so a running job this quiet has lost its worker.
STALLED_AFTER = timedelta(minutes=30)
STALLED_REASON = "It stopped without finishing: the worker running it was lost. What was done before that stays."


def job_claim(model: type[BackgroundJob], pk: int, **fields: Any) -> bool:
    """Move job ``pk`` from queued to running (setting ``fields`` too); False if it was not queued.

    One conditional UPDATE, so of two deliveries of the same task only one does the work.
    """
    claimed = model._default_manager.filter(pk=pk, status=BackgroundJob.QUEUED).update(
        status=BackgroundJob.RUNNING, updated_at=timezone.now(), **fields
    )
    return bool(claimed)


def stalled_jobs_fail(*, now: datetime | None = None) -> int:
    """Fail the running jobs with no progress for ``STALLED_AFTER``; return how many.

    An email upload's file is deleted with it. Queued jobs are left alone: their task may
    still be waiting in the outbox for the broker to come back.
    """
    now = now or timezone.now()
    failed = 0
    for model, extra in ((ImportJob, {}), (EmailUploadJob, {"data": b""})):
        failed += model._default_manager.filter(
            status=BackgroundJob.RUNNING, updated_at__lt=now - STALLED_AFTER
        ).update(status=BackgroundJob.FAILED, failure=STALLED_REASON, finished_at=now, updated_at=now, **extra)
    return failed
