"""Celery's settings, read back from the app: a misspelled ``CELERY_*`` setting is silently ignored."""

from __future__ import annotations

import pytest
from celery.app.defaults import DEFAULTS
from django.conf import settings

from socialcrm.celery import app as celery_app
from socialcrm.outbox import registered_task

conf = celery_app.conf


def test_every_celery_setting_is_one_celery_knows() -> None:
    names = [name for name in dir(settings) if name.startswith("CELERY_")]

    unknown = [name for name in names if name.removeprefix("CELERY_").lower() not in DEFAULTS]

    assert len(names) > 10
    assert unknown == []


def test_messages_are_json_only() -> None:
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]


def test_tasks_are_acknowledged_only_after_they_ran() -> None:
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_tasks_have_a_soft_limit_below_the_hard_limit() -> None:
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


def test_redis_redelivers_only_after_the_hard_time_limit() -> None:
    # Otherwise Redis hands a long-running task to a second worker while the first still runs.
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


def test_publishing_to_an_unreachable_broker_is_bounded() -> None:
    options = conf.broker_transport_options
    policy = conf.task_publish_retry_policy

    assert options["socket_connect_timeout"] <= 1
    assert options["socket_timeout"] <= 2
    assert conf.broker_connection_timeout <= 1
    assert policy["max_retries"] <= 1
    assert policy["interval_max"] <= 0.5


def test_workers_reconnect_to_the_broker_however_long_it_is_away() -> None:
    assert conf.broker_connection_retry is True
    assert conf.broker_connection_max_retries is None


def test_the_three_queues_are_declared() -> None:
    # One routing key per queue: a shared key would bind every queue to every message sent with it.
    assert [(queue.name, queue.routing_key) for queue in conf.task_queues] == [
        ("default", "default"),
        ("enrichment", "enrichment"),
        ("privacy", "privacy"),
    ]
    assert conf.task_default_queue == "default"


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("enrichment.tasks.enrich_contact", "enrichment"),
        ("consent.tasks.erase_contact", "privacy"),
        ("socialcrm.tasks.send_invitation", "default"),
        ("contacts.tasks.send_reminders", "default"),
    ],
)
def test_tasks_are_routed_to_their_app_queue(task_name: str, queue: str) -> None:
    route = celery_app.amqp.router.route({}, task_name)

    assert route["queue"].name == queue


def test_beat_schedule_names_registered_tasks() -> None:
    names = [entry["task"] for entry in conf.beat_schedule.values()]

    assert "socialcrm.tasks.relay_outbox" in names
    assert [registered_task(name).name for name in names] == names


def test_outbox_relay_ticks_expire_before_the_next_one() -> None:
    entry = conf.beat_schedule["relay-outbox"]

    assert entry["options"]["expires"] < entry["schedule"]
