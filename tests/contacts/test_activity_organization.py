"""Timeline entries carry their contact's organization, kept in step by the database.

The organization page's combined timeline reads ``Activity.organization`` (an index range)
instead of joining every person's entries, so the copy must equal the contact's
organization after every kind of write: recording, editing a contact, merging, deleting
an organization, and writes that bypass the services (the admin, raw updates).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.models import Activity, Contact
from contacts.services.contacts import contact_update
from contacts.services.merge import contact_merge
from contacts.services.timeline import activity_record, activity_record_many
from tests.factories import ActivityFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _organizations(contact: Contact) -> set[int | None]:
    return set(Activity.objects.filter(contact_id=contact.pk).values_list("organization_id", flat=True))


@pytest.fixture
def initech(team: Any) -> Any:
    return OrganizationFactory(team=team, name="Initech")


@pytest.fixture
def initrode(team: Any) -> Any:
    return OrganizationFactory(team=team, name="Initrode")


def test_recorded_entries_take_their_contacts_organization(team: Any, initech: Any, alice: Any):
    peter = ContactFactory(team=team, organization=initech)
    loner = ContactFactory(team=team)

    activity_record(contact=peter, kind=Activity.Kind.NOTE, actor=alice, subject="one")
    activity_record_many(
        [
            Activity(contact=peter, kind=Activity.Kind.CALL, subject="two"),
            Activity(contact=loner, kind=Activity.Kind.CALL, subject="three"),
        ]
    )
    ActivityFactory(contact=peter)

    assert _organizations(peter) == {initech.pk}
    assert _organizations(loner) == {None}


def test_a_contacts_entries_follow_it_to_another_organization_and_out(
    team: Any, initech: Any, initrode: Any, alice: Any
):
    peter = ContactFactory(team=team, organization=initech, first_name="Peter", last_name="Gibbons")
    ActivityFactory.create_batch(3, contact=peter)
    stays = ActivityFactory(contact=ContactFactory(team=team, organization=initech))

    contact_update(actor=alice, contact=peter, first_name="Peter", last_name="Gibbons", organization=initrode)
    assert _organizations(peter) == {initrode.pk}

    contact_update(actor=alice, contact=peter, first_name="Peter", last_name="Gibbons", organization=None)
    assert _organizations(peter) == {None}
    # Only his entries moved.
    assert Activity.objects.get(pk=stays.pk).organization_id == initech.pk


def test_merged_entries_take_the_survivors_organization(team: Any, initech: Any, initrode: Any, alice: Any):
    survivor = ContactFactory(team=team, organization=initech)
    merged = ContactFactory(team=team, organization=initrode)
    ActivityFactory(contact=survivor)
    ActivityFactory.create_batch(2, contact=merged)

    contact_merge(actor=alice, survivor=survivor, merged=merged, choices={})
    assert _organizations(survivor) == {initech.pk}


def test_picking_the_merged_contacts_organization_moves_the_survivors_entries(
    team: Any, initech: Any, initrode: Any, alice: Any
):
    survivor = ContactFactory(team=team, organization=initech)
    merged = ContactFactory(team=team, organization=initrode)
    ActivityFactory.create_batch(2, contact=survivor)
    ActivityFactory(contact=merged)

    contact_merge(actor=alice, survivor=survivor, merged=merged, choices={"organization": "merged"})
    assert _organizations(survivor) == {initrode.pk}


def test_deleting_an_organization_clears_its_entries(team: Any, initech: Any):
    peter = ContactFactory(team=team, organization=initech)
    ActivityFactory(contact=peter)

    initech.delete()

    assert _organizations(peter) == {None}


def test_writes_that_bypass_the_services_keep_it_in_step_too(team: Any, initech: Any, initrode: Any):
    peter = ContactFactory(team=team, organization=initech)
    bill = ContactFactory(team=team, organization=initrode)
    entry = ActivityFactory(contact=peter)

    # An admin edit of the contact, a raw move of an entry, a raw write of the copy itself.
    Contact.objects.filter(pk=peter.pk).update(organization=initrode)
    assert _organizations(peter) == {initrode.pk}
    Activity.objects.filter(pk=entry.pk).update(contact=bill)
    Activity.objects.filter(pk=entry.pk).update(organization=initech)
    assert Activity.objects.get(pk=entry.pk).organization_id == initrode.pk


def test_the_organization_page_follows_people_who_join_and_leave(
    team: Any, initech: Any, initrode: Any, alice: Any, client_for: Any
):
    joiner = ContactFactory(team=team, organization=initrode, first_name="Joan", last_name="Joiner")
    leaver = ContactFactory(team=team, organization=initech, first_name="Lee", last_name="Leaver")
    ActivityFactory(contact=joiner, subject="joiner-entry")
    ActivityFactory(contact=leaver, subject="leaver-entry")

    contact_update(actor=alice, contact=joiner, first_name="Joan", last_name="Joiner", organization=initech)
    contact_update(actor=alice, contact=leaver, first_name="Lee", last_name="Leaver", organization=initrode)

    html = client_for(alice).get(reverse("contacts:organization_detail", kwargs={"pk": initech.pk})).content.decode()
    assert "joiner-entry" in html
    assert "leaver-entry" not in html
