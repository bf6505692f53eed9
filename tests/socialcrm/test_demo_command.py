from __future__ import annotations

import queue
import threading
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from contacts.models import Contact
from socialcrm.celery import app as celery_app
from socialcrm.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, tasks_in_a_worker_thread
from socialcrm.models import Team, User


@pytest.mark.django_db
def test_demo_sets_everything_up_and_running_it_twice_is_fine(settings, tmp_path) -> None:
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    out = StringIO()

    call_command("demo", "--no-serve", stdout=out)
    contacts_after_first_run = Contact.objects.count()
    call_command("demo", "--no-serve", stdout=StringIO())

    assert "http://127.0.0.1:8000/" in out.getvalue()
    for email, _name, _role in DEMO_ACCOUNTS.values():
        assert email in out.getvalue()
        assert authenticate(email=email, password=DEMO_PASSWORD) == User.objects.get(email=email)
    assert Team.objects.filter(name="Demo team").count() == 1
    assert contacts_after_first_run >= 200
    assert Contact.objects.count() == contacts_after_first_run


@pytest.mark.django_db
def test_demo_refuses_to_run_in_production(settings) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo", "--no-serve")

    assert not User.objects.filter(email__endswith="@demo.example").exists()


ran_in: queue.Queue[str] = queue.Queue()


@celery_app.task(name="socialcrm.tasks.test_demo_probe")
def _probe() -> None:
    ran_in.put(threading.current_thread().name)


def test_while_the_demo_serves_tasks_run_in_a_worker_thread_not_in_the_request() -> None:
    assert celery_app.conf.task_always_eager

    with tasks_in_a_worker_thread():
        _probe.apply_async()
        assert ran_in.get(timeout=10) != threading.current_thread().name

    # Eager again afterwards, as the tests and a bare checkout run tasks.
    assert celery_app.conf.task_always_eager
    _probe.apply_async()
    assert ran_in.get(timeout=1) == threading.current_thread().name
