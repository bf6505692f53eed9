"""Merging two contacts: everything attached is kept, the choice of values applies, old ids redirect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from contacts.models import Activity, Contact, ContactRedirect, Reminder
from contacts.registry import MergeHook, _merge_hooks, register_merge_hook
from contacts.services import nudges
from contacts.services.merge import MergeError, contact_merge
from contacts.services.timeline import activity_record
from socialcrm.audit.models import AuditEvent
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    ContactMethodFactory,
    OrganizationFactory,
    ReminderFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(team, alice):
    """Two records of one person: "Jon Smith" (older, fuller) and "John Smith" (newer)."""
    northwind = OrganizationFactory(team=team, name="Northwind Traders")
    jon = ContactFactory(team=team, first_name="Jon", last_name="Smith", organization=northwind, title="", owner=alice)
    john = ContactFactory(team=team, first_name="John", last_name="Smith", organization=None, title="CFO", notes="VIP")
    ContactMethodFactory(contact=jon, kind="email", value="jon@northwind.example", is_primary=True)
    ContactMethodFactory(contact=john, kind="email", value="john.smith@mail.example", is_primary=True)
    ContactMethodFactory(contact=john, kind="phone", value="+44 20 7946 0001", normalized="+442079460001")
    jon.tags.add(TagFactory(team=team, name="customer"))
    john.tags.add(TagFactory(team=team, name="vip"), TagFactory(team=team, name="customer"))
    ActivityFactory(contact=jon, kind=Activity.Kind.CALL, subject="Call with Jon")
    ActivityFactory(contact=john, kind=Activity.Kind.NOTE, subject="Note on John")
    # The same email logged on both (one Message-ID): kept once.
    ActivityFactory(contact=jon, kind=Activity.Kind.EMAIL, external_id="<m1@x>", subject="Hello")
    ActivityFactory(contact=john, kind=Activity.Kind.EMAIL, external_id="<m1@x>", subject="Hello")
    ActivityFactory(contact=john, kind=Activity.Kind.EMAIL, external_id="<m2@x>", subject="Follow-up")
    ReminderFactory(contact=john, assignee=alice, note="Send the offer")
    return jon, john


def test_merge_keeps_everything_of_both(pair, alice) -> None:
    jon, john = pair
    john_pk = john.pk

    survivor = contact_merge(
        actor=alice,
        survivor=jon,
        merged=john,
        choices={"first_name": "merged", "display_name": "merged", "title": "merged"},
    )

    survivor.refresh_from_db()
    assert not Contact.objects.filter(pk=john_pk).exists()
    # Picked from John; Jon's organization kept (John had none); John's notes, as not picked, dropped.
    assert (survivor.display_name, survivor.first_name, survivor.title) == ("John Smith", "John", "CFO")
    assert survivor.organization.name == "Northwind Traders"
    assert survivor.notes == jon.notes
    methods = sorted(survivor.methods.values_list("kind", "normalized", "is_primary"))
    assert methods == [
        ("email", "john.smith@mail.example", False),
        ("email", "jon@northwind.example", True),
        ("phone", "+442079460001", False),
    ]
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["customer", "vip"]
    subjects = sorted(survivor.activities.exclude(kind=Activity.Kind.MERGED).values_list("subject", flat=True))
    assert subjects == ["Call with Jon", "Follow-up", "Hello", "Note on John"]
    assert list(Reminder.objects.values_list("contact_id", "note")) == [(jon.pk, "Send the offer")]
    merged_entry = survivor.activities.get(kind=Activity.Kind.MERGED)
    assert merged_entry.subject == "Merged with John Smith"
    assert merged_entry.payload["merged_contact_id"] == john_pk
    assert merged_entry.actor == alice
    assert ContactRedirect.objects.get(old_id=john_pk).contact == survivor
    event = AuditEvent.objects.get(action="contacts.merged")
    assert (event.actor_id, event.object_id) == (alice.pk, str(jon.pk))


def test_merge_screen_picks_values_side_by_side(pair, alice, client_for) -> None:
    jon, john = pair
    client = client_for(alice)
    url = reverse("contacts:merge", kwargs={"pk": jon.pk, "other": john.pk})

    page = client.get(url).content.decode()
    response = client.post(url, {"display_name": "survivor", "first_name": "survivor", "title": "merged"})

    assert "Jon Smith" in page and "John Smith" in page
    assert 'value="merged"' in page
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:detail", kwargs={"pk": jon.pk})
    jon.refresh_from_db()
    assert (jon.display_name, jon.title) == ("Jon Smith", "CFO")


def test_a_merged_contacts_page_redirects_to_the_survivor(pair, alice, charlie, client_for) -> None:
    jon, john = pair
    contact_merge(actor=alice, survivor=jon, merged=john, choices={})
    old = reverse("contacts:detail", kwargs={"pk": john.pk})

    response = client_for(alice).get(old)

    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:detail", kwargs={"pk": jon.pk})
    # Someone who may not see the survivor gets the plain 404.
    assert client_for(charlie).get(old).status_code == 404


def test_redirects_follow_a_chain_of_merges(team, alice, client_for) -> None:
    first, second, third = (ContactFactory(team=team) for _ in range(3))
    contact_merge(actor=alice, survivor=second, merged=first, choices={})
    contact_merge(actor=alice, survivor=third, merged=second, choices={})

    response = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": first.pk}))

    assert response["Location"] == reverse("contacts:detail", kwargs={"pk": third.pk})


def test_contacts_of_different_teams_are_not_merged(team, other_team, admin) -> None:
    ours, theirs = ContactFactory(team=team), ContactFactory(team=other_team)

    with pytest.raises(MergeError, match="same team"):
        contact_merge(actor=admin, survivor=ours, merged=theirs, choices={})
    with pytest.raises(MergeError, match="two different"):
        contact_merge(actor=admin, survivor=ours, merged=ours, choices={})
    assert Contact.objects.count() == 2


def test_a_registered_merge_hook_handles_its_models(pair, alice) -> None:
    jon, john = pair
    calls = []
    register_merge_hook(MergeHook("test", (Reminder,), lambda survivor, merged: calls.append((survivor.pk, merged.pk))))
    try:
        contact_merge(actor=alice, survivor=jon, merged=john, choices={})
    finally:
        _merge_hooks.pop("test")

    assert calls == [(jon.pk, john.pk)]
    # The hook owns reminders: the generic re-pointing left them (and the delete cascaded).
    assert not Reminder.objects.exists()


def test_charlie_cannot_merge_alices_contacts(pair, charlie, client_for) -> None:
    jon, john = pair
    url = reverse("contacts:merge", kwargs={"pk": jon.pk, "other": john.pk})

    assert client_for(charlie).get(url).status_code == 404
    assert client_for(charlie).post(url, {}).status_code == 404
    assert Contact.objects.filter(pk=john.pk).exists()


def test_the_dpo_cannot_merge(pair, dpo, client_for) -> None:
    jon, john = pair

    response = client_for(dpo).post(reverse("contacts:merge", kwargs={"pk": jon.pk, "other": john.pk}), {})

    assert response.status_code == 403
    assert Contact.objects.filter(pk=john.pk).exists()


def _ledger(actor, contact, code="marketing_email", action="grant") -> None:
    from consent.models import ConsentEvent, Purpose
    from consent.services import consent_record

    consent_record(
        actor=actor,
        contact=contact,
        purpose=Purpose.objects.get(code=code),
        action=action,
        source=ConsentEvent.Source.EMAIL,
        evidence="The person's email of today.",
    )


def test_a_contact_with_a_consent_history_is_not_merged_away_and_the_page_says_why(pair, alice, client_for) -> None:
    jon, john = pair
    _ledger(alice, john)
    url = reverse("contacts:merge", kwargs={"pk": jon.pk, "other": john.pk})

    response = client_for(alice).post(url, {"display_name": "survivor"})

    assert response.status_code == 422
    page = response.content.decode()
    assert "Consent histories cannot be combined:" in page
    assert "John Smith" in page and "append-only" in page
    # Nothing changed: both contacts, their consent history where it was.
    assert Contact.objects.filter(pk__in=[jon.pk, john.pk]).count() == 2
    assert john.consent_events.count() == 1
    assert not AuditEvent.objects.filter(action="contacts.merged").exists()


def test_a_survivor_with_a_consent_history_keeps_it(pair, alice) -> None:
    jon, john = pair
    _ledger(alice, jon, action="withdraw")

    survivor = contact_merge(actor=alice, survivor=jon, merged=john, choices={})

    assert survivor.consent_events.count() == 1
    assert not Contact.objects.filter(pk=john.pk).exists()


def test_two_contacts_each_with_pending_nudges_merge_into_one_nudge_per_kind(pair, alice, bob) -> None:
    jon, john = pair
    kept = [
        ReminderFactory(contact=jon, assignee=alice, kind=Reminder.Kind.CADENCE),
        ReminderFactory(contact=jon, assignee=alice, kind=Reminder.Kind.AWAITING_REPLY),
    ]
    twins = [
        ReminderFactory(contact=john, assignee=bob, kind=Reminder.Kind.CADENCE),
        ReminderFactory(contact=john, assignee=bob, kind=Reminder.Kind.AWAITING_REPLY),
    ]

    survivor = contact_merge(actor=alice, survivor=jon, merged=john, choices={})

    pending = Reminder.objects.filter(contact=survivor, status__in=("open", "snoozed")).exclude(kind="manual")
    assert sorted(pending.values_list("pk", flat=True)) == sorted(nudge.pk for nudge in kept)
    assert sorted(Reminder.objects.filter(pk__in=[twin.pk for twin in twins]).values_list("contact_id", "status")) == [
        (jon.pk, "cancelled"),
        (jon.pk, "cancelled"),
    ]
    notes = survivor.activities.filter(kind=Activity.Kind.SYSTEM, subject__contains="merged contact has one")
    assert sorted(notes.values_list("subject", flat=True)) == [
        "Awaiting reply reminder cancelled: the merged contact has one already",
        "Keep in touch reminder cancelled: the merged contact has one already",
    ]


def test_a_merged_contacts_unanswered_email_still_nudges_on_the_survivor(team, alice, bob) -> None:
    sent = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
    jon = ContactFactory(team=team, owner=alice, cadence_days=30)
    john = ContactFactory(team=team, owner=alice)
    with time_machine.travel(sent - timedelta(days=10), tick=False):
        activity_record(contact=jon, kind=Activity.Kind.CALL, direction="in", occurred_at=sent - timedelta(days=10))
    with time_machine.travel(sent, tick=False):
        activity_record(contact=john, kind=Activity.Kind.EMAIL, actor=bob, direction="out", occurred_at=sent)
        survivor = contact_merge(actor=alice, survivor=jon, merged=john, choices={})

    survivor.refresh_from_db()
    # The later of both clocks, and the clocks that follow from them.
    assert survivor.last_contacted_at == sent and survivor.last_outbound_at == sent
    assert survivor.last_inbound_at == sent - timedelta(days=10)
    assert survivor.awaiting_reply
    assert survivor.reply_due_at == sent + timedelta(days=3)
    assert survivor.cadence_due_at == sent + timedelta(days=30)
    with time_machine.travel(sent + timedelta(days=4), tick=False):
        assert nudges.awaiting_reply_nudges_make() == 1
    nudged = Reminder.objects.filter(kind=Reminder.Kind.AWAITING_REPLY)
    assert list(nudged.values_list("contact_id", "assignee_id")) == [(jon.pk, bob.pk)]
