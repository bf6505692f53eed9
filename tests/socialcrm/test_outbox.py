"""The transactional outbox: publish after commit, survive an unreachable broker, relay later.

Tasks run eagerly here (tests/conftest.py), so "published" means the task ran in-process;
broker failures use a real Redis URL on a closed port, not a mock.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.exceptions import NotRegistered
from django.core import mail
from django.db import transaction
from django.utils import timezone

from socialcrm import tasks
from socialcrm.models import Invitation, OutboxMessage
from socialcrm.outbox import KEEP_PUBLISHED, RELAY_GRACE, enqueue, relay_pending
from tests.factories import InvitationFactory
from tests.processes import run_python
from tests.socialcrm.brokers import broker, free_port

pytestmark = pytest.mark.django_db

SEND_INVITATION = "socialcrm.tasks.send_invitation"


def unreachable_broker() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def pending_row(invitation: Invitation, *, age: timedelta) -> OutboxMessage:
    return OutboxMessage.objects.create(
        task_name=SEND_INVITATION, args=[invitation.pk], created_at=timezone.now() - age
    )


def test_enqueue_writes_a_row_and_publishes_only_on_commit(django_capture_on_commit_callbacks) -> None:
    invitation = InvitationFactory(email="nora@staff.example")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = enqueue(SEND_INVITATION, invitation.pk)
        assert mail.outbox == []

    assert len(callbacks) == 1
    message.refresh_from_db()
    assert (message.task_name, message.args, message.kwargs) == (SEND_INVITATION, [invitation.pk], {})
    assert message.published_at is not None
    assert message.attempts == 1
    assert [email.to for email in mail.outbox] == [["nora@staff.example"]]


def test_enqueue_takes_a_task_object_and_keyword_arguments(django_capture_on_commit_callbacks) -> None:
    invitation = InvitationFactory()

    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue(tasks.send_invitation, invitation_id=invitation.pk)

    message.refresh_from_db()
    assert (message.task_name, message.args, message.kwargs) == (SEND_INVITATION, [], {"invitation_id": invitation.pk})
    assert len(mail.outbox) == 1


def test_nothing_is_published_when_the_transaction_rolls_back(django_capture_on_commit_callbacks) -> None:
    invitation = InvitationFactory()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue(SEND_INVITATION, invitation.pk)
        raise RuntimeError("the caller's change failed")

    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("argument", [object(), timezone.now(), {1, 2}])
def test_enqueue_rejects_arguments_json_cannot_carry(argument: object) -> None:
    with pytest.raises(TypeError):
        enqueue(SEND_INVITATION, argument)

    assert not OutboxMessage.objects.exists()


def test_enqueue_rejects_an_unknown_task_name() -> None:
    with pytest.raises(NotRegistered):
        enqueue("socialcrm.tasks.send_invitaton", 1)

    assert not OutboxMessage.objects.exists()


def test_a_fresh_web_process_finds_tasks_by_name() -> None:
    # Only workers import the apps' tasks modules at startup; enqueue() must still find them.
    probe = (
        "import django; django.setup()\n"
        "from socialcrm.outbox import registered_task\n"
        f"print(registered_task({SEND_INVITATION!r}).name)"
    )

    result = run_python("-c", probe, env={})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == SEND_INVITATION


def test_in_eager_mode_a_failing_task_raises_instead_of_passing_for_a_broker_outage(
    django_capture_on_commit_callbacks, settings
) -> None:
    settings.EMAIL_BACKEND = "tests.no_such_module.EmailBackend"
    invitation = InvitationFactory()

    with pytest.raises(ImportError), django_capture_on_commit_callbacks(execute=True):
        message = enqueue(SEND_INVITATION, invitation.pk)

    message.refresh_from_db()
    assert (message.attempts, message.last_error) == (0, "")


def test_an_unreachable_broker_leaves_the_row_pending_without_failing_the_caller(
    django_capture_on_commit_callbacks,
) -> None:
    invitation = InvitationFactory()

    with broker(unreachable_broker()), django_capture_on_commit_callbacks(execute=True):
        message = enqueue(SEND_INVITATION, invitation.pk)
        started = time.monotonic()
    elapsed = time.monotonic() - started

    message.refresh_from_db()
    assert message.published_at is None
    assert message.attempts == 1
    assert "Connection refused" in message.last_error
    assert elapsed < 2
    assert mail.outbox == []


def test_relay_publishes_pending_rows_past_the_grace_period_and_skips_young_ones() -> None:
    old_invitation = InvitationFactory(email="old@staff.example")
    old = pending_row(old_invitation, age=RELAY_GRACE + timedelta(seconds=1))
    young = pending_row(InvitationFactory(), age=RELAY_GRACE - timedelta(seconds=5))

    assert tasks.relay_outbox() == 1

    old.refresh_from_db()
    young.refresh_from_db()
    assert old.published_at is not None
    assert young.published_at is None
    assert [email.to for email in mail.outbox] == [["old@staff.example"]]


def test_relay_grace_can_be_shortened() -> None:
    message = pending_row(InvitationFactory(), age=timedelta(seconds=1))

    assert relay_pending(grace=timedelta(0)) == 1

    message.refresh_from_db()
    assert message.published_at is not None


def test_relay_stops_at_the_first_failure() -> None:
    first = pending_row(InvitationFactory(), age=timedelta(minutes=2))
    second = pending_row(InvitationFactory(), age=timedelta(minutes=1))

    with broker(unreachable_broker()):
        assert relay_pending() == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.published_at, first.attempts) == (None, 1)
    assert first.last_error
    assert (second.published_at, second.attempts, second.last_error) == (None, 0, "")


def test_relay_deletes_rows_published_long_ago() -> None:
    now = timezone.now()
    stale = OutboxMessage.objects.create(task_name=SEND_INVITATION, args=[1], published_at=now - KEEP_PUBLISHED)
    recent = OutboxMessage.objects.create(task_name=SEND_INVITATION, args=[2], published_at=now - timedelta(days=1))

    relay_pending()

    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not OutboxMessage.objects.filter(pk=stale.pk).exists()
