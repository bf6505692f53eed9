"""The contacts demo loader: a lively demo team, loaded once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone

from contacts.demo import load_demo_contacts
from contacts.models import Activity, Contact, ContactMethod, Organization
from socialcrm.registry import DemoContext, demo_loaders

pytestmark = pytest.mark.django_db


@pytest.fixture
def context(team: Any, alice: Any, mona: Any, dpo: Any, admin: Any) -> DemoContext:
    return DemoContext(team=team, sales=alice, manager=mona, dpo=dpo, admin=admin, say=lambda message: None)


def test_the_loader_is_registered_for_the_demo_command():
    assert "Contacts and timelines" in [loader.name for loader in demo_loaders()]


def test_loads_about_200_people_in_40_organizations_with_18_months_of_timeline(
    context: DemoContext, alice: Any, mona: Any, django_assert_max_num_queries: Any
):
    # Bulk inserts in batches (SQLite's smaller ones included): far fewer queries than the
    # 200 contacts and 1,000+ entries it writes.
    with django_assert_max_num_queries(100):
        load_demo_contacts(context)

    contacts = Contact.objects.filter(team=context.team)
    assert contacts.count() == 200
    assert Organization.objects.filter(team=context.team).count() == 40
    assert set(contacts.values_list("owner", flat=True)) == {alice.pk, mona.pk}
    assert contacts.filter(owner=alice).count() > contacts.filter(owner=mona).count()
    assert ContactMethod.objects.filter(team=context.team, kind="email").count() == 200
    activities = Activity.objects.filter(contact__team=context.team)
    assert set(activities.values_list("kind", flat=True)) == {"email", "call", "meeting", "note"}
    assert set(activities.filter(kind="email").values_list("direction", flat=True)) == {"in", "out"}
    span = activities.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    assert timezone.now() - span["first"] > timedelta(days=450)
    assert span["last"] <= timezone.now()
    assert activities.count() > 1000
    # The derived "last contacted" matches the timeline.
    person = contacts.filter(last_contacted_at__isnull=False).first()
    newest = activities.filter(contact=person, kind__in=["email", "call", "meeting"]).latest("occurred_at")
    assert person.last_contacted_at == newest.occurred_at


def test_running_it_twice_does_not_duplicate(context: DemoContext):
    load_demo_contacts(context)
    counts = (Contact.objects.count(), Activity.objects.count(), Organization.objects.count())

    load_demo_contacts(context)

    assert (Contact.objects.count(), Activity.objects.count(), Organization.objects.count()) == counts


def test_demo_people_open_with_their_timeline(context: DemoContext, alice: Any, client_for: Any):
    load_demo_contacts(context)
    person = Contact.objects.filter(team=context.team).order_by("-last_contacted_at").first()

    response = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": person.pk}))

    assert response.status_code == 200
    assert 'class="timeline-entry ' in response.content.decode()
