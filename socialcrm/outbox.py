"""Enqueue Celery tasks through a transactional outbox.

``enqueue()`` writes an ``OutboxMessage`` in the caller's transaction and publishes it
right after commit. Publishing gives up quickly when the broker is unreachable (short
connect timeout, one retry: see ``CELERY_BROKER_TRANSPORT_OPTIONS`` and
``CELERY_TASK_PUBLISH_RETRY_POLICY``), so a web request never hangs or fails on Redis; the
row stays pending and ``relay_pending()`` (run by beat) publishes it once the broker is back.
A message can therefore be delivered more than once: tasks must be idempotent.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from celery import Task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from socialcrm.celery import app as celery_app
from socialcrm.models import OutboxMessage

logger = logging.getLogger(__name__)

# Rows this young are left to their own on-commit publish, so the relay and the request
# rarely publish the same message twice.
RELAY_GRACE = timedelta(seconds=15)
KEEP_PUBLISHED = timedelta(days=7)


def enqueue(task: Task | str, /, *args: Any, **kwargs: Any) -> OutboxMessage:
    """Queue ``task(*args, **kwargs)`` to run once the current transaction commits.

    Arguments must be JSON-serializable (ids and plain values, never model instances);
    anything else raises ``TypeError`` here, at the call site, as does an unknown task name
    (``celery.exceptions.NotRegistered``, a ``KeyError``). Nothing is sent if the
    transaction rolls back.
    """
    task_name = task if isinstance(task, str) else task.name
    registered_task(task_name)
    json.dumps([args, kwargs])
    message = OutboxMessage.objects.create(task_name=task_name, args=list(args), kwargs=kwargs)
    _unpublished_ids().append(message.pk)
    # Every enqueue registers the flush (a callback registered in a savepoint that rolls
    # back is dropped); the first one to run after commit publishes them all.
    transaction.on_commit(_publish_enqueued)
    return message


_local = threading.local()


def _unpublished_ids() -> list[int]:
    ids: list[int] | None = getattr(_local, "ids", None)
    if ids is None:
        ids = _local.ids = []
    return ids


def _publish_enqueued() -> None:
    """Publish what this thread enqueued, in order, with one UPDATE for the lot.

    Ids of rows that a rollback removed are still listed; the query skips them.
    """
    ids, _local.ids = _unpublished_ids(), []
    if ids:
        publish_many(OutboxMessage.objects.filter(pk__in=ids, published_at__isnull=True).order_by("pk"))


def registered_task(name: str) -> Task:
    """The task registered as ``name``; raises ``NotRegistered`` if there is none.

    Only workers import every app's ``tasks`` module at startup and callers name tasks by
    string (no import cycles), so a web process discovers them on the first miss.
    """
    if name not in celery_app.tasks:
        celery_app.autodiscover_tasks(force=True)
    return celery_app.tasks[name]


def publish(message: OutboxMessage) -> bool:
    """Hand one message to Celery; return whether the broker accepted it."""
    return publish_many([message]) == 1


def publish_many(messages: Iterable[OutboxMessage]) -> int:
    """Hand messages to Celery in order; return how many the broker accepted.

    Stops at the first broker failure, which is logged and recorded on that row
    (``attempts``, ``last_error``), never raised: the rest stay pending for the relay.
    Without a broker (eager mode) each task runs right here, and its own errors propagate
    only if ``task_eager_propagates`` is on, as in tests. The accepted rows are marked
    published with one UPDATE.
    """
    published: list[int] = []
    try:
        for message in messages:
            task = registered_task(message.task_name)
            try:
                task.apply_async(args=message.args, kwargs=message.kwargs)
            except Exception as exc:  # the broker's clients raise many unrelated types
                if celery_app.conf.task_always_eager:
                    raise  # the task failed, not the (absent) broker
                logger.warning("Could not publish %s (outbox #%s): %s", message.task_name, message.pk, exc)
                OutboxMessage.objects.filter(pk=message.pk).update(
                    attempts=F("attempts") + 1, last_error=str(exc)[:2000]
                )
                break
            published.append(message.pk)
    finally:
        if published:
            OutboxMessage.objects.filter(pk__in=published).update(
                published_at=timezone.now(), attempts=F("attempts") + 1
            )
    return len(published)


def relay_pending(*, grace: timedelta = RELAY_GRACE, limit: int = 500) -> int:
    """Publish messages still pending after ``grace``; return how many went out.

    Rows are claimed with ``SKIP LOCKED`` so two relays never publish the same row. Stops
    at the first failure: if the broker is still down, the next tick tries again. Also
    deletes messages published more than ``KEEP_PUBLISHED`` ago.
    """
    with transaction.atomic():
        pending = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True, created_at__lte=timezone.now() - grace)
            .order_by("created_at")[:limit]
        )
        published = publish_many(pending)
    if published:
        logger.info("Relayed %s pending outbox messages", published)
    OutboxMessage.objects.filter(published_at__lt=timezone.now() - KEEP_PUBLISHED).delete()
    return published
