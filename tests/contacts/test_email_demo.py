"""The email demo loader: the sample thread on a demo contact, loaded once."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.email.demo import load_demo_email
from contacts.models import Activity, Contact, TeamSettings
from socialcrm.registry import DemoContext, demo_loaders

pytestmark = pytest.mark.django_db


@pytest.fixture
def context(team: Any, alice: Any, mona: Any, dpo: Any, admin: Any) -> DemoContext:
    return DemoContext(team=team, sales=alice, manager=mona, dpo=dpo, admin=admin, say=lambda message: None)


def test_the_loader_runs_after_the_contacts_loader():
    orders = {loader.name: loader.order for loader in demo_loaders()}

    assert orders["Email thread"] == 120
    assert orders["Email thread"] > orders["Contacts and timelines"]


def test_the_demo_shows_the_sample_thread(context: DemoContext, client_for: Any, alice: Any):
    load_demo_email(context)
    load_demo_email(context)  # twice: nothing doubles

    amara = Contact.objects.get(team=context.team, methods__normalized="amara.okafor@northwind.example")
    assert (amara.first_name, amara.last_name, amara.display_name) == ("Amara", "Okafor", "Amara Okafor")
    entries = list(Activity.objects.filter(contact=amara).order_by("occurred_at"))
    assert [entry.direction for entry in entries] == ["out", "in", "out"]
    assert len({entry.thread_key for entry in entries}) == 1
    assert TeamSettings.objects.get(team=context.team).own_domains == ["ourco.example"]
    page = client_for(alice).get(reverse("contacts:thread", args=[entries[-1].pk]))
    assert page.status_code == 200
    assert "3 messages with Amara Okafor" in page.content.decode()


def test_an_existing_contact_with_the_address_is_reused(context: DemoContext):
    from tests.factories import ContactFactory

    existing = ContactFactory(team=context.team, email="Amara.Okafor@northwind.example")

    load_demo_email(context)

    assert Contact.objects.filter(team=context.team).count() == 1
    assert Activity.objects.filter(contact=existing).count() == 3
