"""The reminders demo loader: every state, cadences, a few overdue; loaded once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from contacts.demo_reminders import load_demo_reminders
from contacts.models import Contact, Reminder
from contacts.services.nudges import cadence_nudges_make
from socialcrm.registry import DemoContext, demo_loaders
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def context(team: Any, alice: Any, mona: Any, dpo: Any, admin: Any) -> DemoContext:
    for index in range(50):
        # Like the contacts' demo: last talked to at various times over the past months.
        ContactFactory(team=team, owner=alice, last_contacted_at=timezone.now() - timedelta(days=4 * index))
    return DemoContext(team=team, sales=alice, manager=mona, dpo=dpo, admin=admin, say=lambda message: None)


def test_it_runs_after_the_contacts_loader() -> None:
    orders = {loader.name: loader.order for loader in demo_loaders()}
    assert orders["Contacts and timelines"] < orders["Reminders and keep-in-touch cadences"]


def test_reminders_in_every_state_cadences_and_some_overdue(context: DemoContext, alice: Any, mona: Any) -> None:
    load_demo_reminders(context)
    reminders = Reminder.objects.filter(contact__team=context.team)
    assert set(reminders.values_list("status", flat=True)) == set(Reminder.Status.values)
    assert set(reminders.values_list("assignee", flat=True)) == {alice.pk, mona.pk}
    assert reminders.filter(status="open", due_at__lt=timezone.now()).exists()
    assert reminders.exclude(recurrence="").exists()
    assert Contact.objects.filter(team=context.team, cadence_days__isnull=False).count() == 20
    # Some were last talked to longer ago than their cadence: beat nudges their owners.
    assert cadence_nudges_make() > 0
    assert reminders.filter(kind=Reminder.Kind.CADENCE).exists()


def test_loading_twice_adds_nothing(context: DemoContext) -> None:
    load_demo_reminders(context)
    count = Reminder.objects.count()
    load_demo_reminders(context)
    assert Reminder.objects.count() == count
