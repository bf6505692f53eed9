"""Enqueue Celery tasks through a transactional outbox.

``enqueue()`` writes an ``OutboxMessage`` in the caller's transaction and publishes it
right after commit. Publishing gives up quickly when the broker is unreachable (short
connect timeout, one retry), so a web request never hangs on Redis; the row stays
pending and ``relay_pending()`` (run by beat) publishes it once the broker is back.
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
    anything else raises ``TypeError`` here, at the call site.
    """
    task_name = task if isinstance(task, str) else task.name
    json.dumps([args, kwargs])
    message = OutboxMessage.objects.create(task_name=task_name, args=list(args), kwargs=kwargs)
    transaction.on_commit(partial(_publish_by_id, message.pk))
    return message


def _publish_by_id(message_id: int) -> None:
    message = OutboxMessage.objects.filter(pk=message_id, published_at__isnull=True).first()
    if message is not None:
        publish(message)


def publish(message: OutboxMessage) -> bool:
    """Hand one message to Celery; return whether the broker accepted it."""
    try:
        celery_app.tasks[message.task_name].apply_async(args=message.args, kwargs=message.kwargs)
    except Exception as exc:  # the broker's client raises many unrelated types
        logger.warning("Could not publish %s (outbox #%s): %s", message.task_name, message.pk, exc)
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1, last_error=str(exc)[:2000])
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(published_at=timezone.now(), attempts=F("attempts") + 1)
    return True


def relay_pending(*, limit: int = 500) -> int:
    """Publish messages still pending after the grace period; return how many went out.

    Rows are claimed with ``SKIP LOCKED`` so two relays never publish the same row. Stops
    at the first failure: if the broker is still down, the next tick tries again.
    """
    published = 0
    with transaction.atomic():
        pending = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True, created_at__lte=timezone.now() - RELAY_GRACE)
            .order_by("created_at")[:limit]
        )
        for message in pending:
            if not publish(message):
                break
            published += 1
    OutboxMessage.objects.filter(published_at__lt=timezone.now() - KEEP_PUBLISHED).delete()
    return published
