"""seed_scale: a big "Scale team" for benchmarks, quickly."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from contacts.management.commands.seed_scale import SCALE_TEAM, SCALE_USER
from contacts.models import Activity, Contact, ContactMethod, Organization
from socialcrm.models import User

pytestmark = pytest.mark.django_db


def _seed(contacts: int, per_contact: int, chunk: int = 10_000) -> str:
    out = StringIO()
    call_command("seed_scale", contacts=contacts, activities_per_contact=per_contact, chunk=chunk, stdout=out)
    return out.getvalue()


def test_seeds_contacts_with_emails_and_timelines_into_the_scale_team():
    output = _seed(30, 4, chunk=20)

    contacts = Contact.objects.filter(team__name=SCALE_TEAM)
    assert contacts.count() == 30
    assert Activity.objects.filter(contact__team__name=SCALE_TEAM).count() == 120
    assert ContactMethod.objects.filter(contact__team__name=SCALE_TEAM, kind="email", is_primary=True).count() == 30
    assert Organization.objects.filter(team__name=SCALE_TEAM).count() == 1
    assert not contacts.filter(organization__isnull=True).exists()
    assert contacts.filter(tags__isnull=False).exists()
    # Derived times match the generated timeline.
    person = contacts.filter(last_contacted_at__isnull=False).first()
    newest = Activity.objects.filter(contact=person, kind__in=["email", "call", "meeting"]).latest("occurred_at")
    assert person.last_contacted_at == newest.occurred_at
    assert "Added 30 contacts and 120 timeline entries" in output
    assert "20 / 30 contacts" in output


def test_runs_add_more_and_the_scale_user_can_browse_them(client_for: Any):
    _seed(5, 2)
    _seed(5, 2)

    assert Contact.objects.filter(team__name=SCALE_TEAM).count() == 10
    owner = User.objects.get(email=SCALE_USER)
    contact = Contact.objects.filter(team__name=SCALE_TEAM).first()
    response = client_for(owner).get(reverse("contacts:detail", kwargs={"pk": contact.pk}))
    assert response.status_code == 200
    assert response.content.decode().count('class="timeline-entry ') == 2
