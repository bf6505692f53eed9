"""The Celery path end to end: a real worker (in a thread) consuming from a real Redis.

Needs REDIS_URL. The worker thread uses its own database connection, so these tests commit
for real (``transaction=True``). The fault test runs its own redis-server on a free loopback
port and stops that one, never the machine's shared Redis.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse

from socialcrm.celery import app as celery_app
from socialcrm.models import OutboxMessage, Team, User
from socialcrm.outbox import enqueue, relay_pending
from socialcrm.roles import Role
from tests.factories import InvitationFactory
from tests.socialcrm.brokers import RedisServer, broker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs a Redis broker: set REDIS_URL=redis://127.0.0.1:6379/<n>"),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL (DATABASE_URL): the worker thread and the test cannot both write "
        "SQLite's shared in-memory test database (its locks fail at once instead of waiting)",
    ),
    pytest.mark.django_db(transaction=True),
]

SEND_INVITATION = "socialcrm.tasks.send_invitation"


@contextmanager
def running_worker(url: str) -> Iterator[None]:
    """Publish to ``url`` and consume all three queues with a worker thread in this process."""
    with broker(url):
        # A message left over from an earlier, interrupted run would run against this test's data.
        celery_app.control.purge()
        with start_worker(
            celery_app,
            pool="solo",
            queues=["default", "enrichment", "privacy"],
            perform_ping_check=False,  # the ping task needs a result backend; we run without one
            shutdown_timeout=30,
        ):
            yield


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_each_app_s_tasks_land_in_its_own_redis_queue() -> None:
    names = ["enrichment.tasks.a", "consent.tasks.b", "consent.tasks.c", "socialcrm.tasks.d", "contacts.tasks.e"]
    queues = ["default", "enrichment", "privacy"]

    with broker(settings.REDIS_URL):
        celery_app.control.purge()
        for name in names:
            celery_app.send_task(name)  # routed by name; no worker runs to consume them
        redis_client = redis.Redis.from_url(settings.REDIS_URL)
        lengths = {queue: redis_client.llen(queue) for queue in queues}
        celery_app.control.purge()

    assert lengths == {"default": 2, "enrichment": 1, "privacy": 2}


def test_a_task_enqueued_in_a_transaction_runs_on_the_worker_after_commit() -> None:
    invitation = InvitationFactory(email="nora@staff.example")

    with running_worker(settings.REDIS_URL):
        with transaction.atomic():
            message = enqueue(SEND_INVITATION, invitation.pk)
            time.sleep(0.5)  # a publish before commit would have reached the worker by now
            assert mail.outbox == []
        assert wait_for(lambda: len(mail.outbox) > 0)

    message.refresh_from_db()
    assert message.published_at is not None
    assert [email.to for email in mail.outbox] == [["nora@staff.example"]]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server on PATH to stop and restart")
def test_while_redis_is_down_a_request_still_answers_and_the_job_runs_once_redis_is_back(
    tmp_path: Path, client_for: Callable[[User | None], Client], mona: User, team: Team
) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        with running_worker(server.url):
            server.stop()

            started = time.monotonic()
            response = client_for(mona).post(
                reverse("team:invitations"), {"email": "nora@staff.example", "role": Role.SALES, "team": team.pk}
            )
            elapsed = time.monotonic() - started

            assert response.status_code == 302
            assert elapsed < 5
            message = OutboxMessage.objects.get()
            assert (message.task_name, message.published_at, message.attempts) == (SEND_INVITATION, None, 1)
            assert message.last_error

            server.start()
            assert relay_pending(grace=timedelta(0)) == 1
            assert wait_for(lambda: len(mail.outbox) > 0)
    finally:
        server.stop()

    message.refresh_from_db()
    assert message.published_at is not None
    assert [email.to for email in mail.outbox] == [["nora@staff.example"]]
