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
from datetime import timedelta
from functools import partial
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
    transaction.on_commit(partial(publish, message))
    return message


def registered_task(name: str) -> Task:
    """The task registered as ``name``; raises ``NotRegistered`` if there is none.

    Only workers import every app's ``tasks`` module at startup and callers name tasks by
    string (no import cycles), so a web process discovers them on the first miss.
    """
    if name not in celery_app.tasks:
        celery_app.autodiscover_tasks(force=True)
    return celery_app.tasks[name]


def publish(message: OutboxMessage) -> bool:
    """Hand one message to Celery; return whether the broker accepted it.

    A broker failure is logged and recorded on the row (``attempts``, ``last_error``),
    never raised. Without a broker (eager mode) the task runs right here, and its own
    errors propagate only if ``task_eager_propagates`` is on, as in tests.
    """
    task = registered_task(message.task_name)
    try:
        task.apply_async(args=message.args, kwargs=message.kwargs)
    except Exception as exc:  # the broker's clients raise many unrelated types
        if celery_app.conf.task_always_eager:
            raise  # the task failed, not the (absent) broker
        logger.warning("Could not publish %s (outbox #%s): %s", message.task_name, message.pk, exc)
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1, last_error=str(exc)[:2000])
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(published_at=timezone.now(), attempts=F("attempts") + 1)
    return True


def relay_pending(*, grace: timedelta = RELAY_GRACE, limit: int = 500) -> int:
    """Publish messages still pending after ``grace``; return how many went out.

    Rows are claimed with ``SKIP LOCKED`` so two relays never publish the same row. Stops
    at the first failure: if the broker is still down, the next tick tries again. Also
    deletes messages published more than ``KEEP_PUBLISHED`` ago.
    """
    published = 0
    with transaction.atomic():
        pending = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True, created_at__lte=timezone.now() - grace)
            .order_by("created_at")[:limit]
        )
        for message in pending:
            if not publish(message):
                break
            published += 1
    if published:
        logger.info("Relayed %s pending outbox messages", published)
    OutboxMessage.objects.filter(published_at__lt=timezone.now() - KEEP_PUBLISHED).delete()
    return published
