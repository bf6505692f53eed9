"""Keep-in-touch cadences: the clock, the nudge for the owner, reset by any new conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from contacts.models import Activity, Contact, Reminder
from contacts.services import nudges
from contacts.services.contacts import contact_update
from contacts.services.reminders import contact_cadence_set, reminder_complete
from contacts.services.timeline import MANUAL_SOURCE, activity_delete, activity_record, activity_update
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def contact(team: Any, alice: Any) -> Contact:
    with time_machine.travel(START, tick=False):
        contact = ContactFactory(team=team, owner=alice)
        activity_record(contact=contact, kind=Activity.Kind.CALL, actor=alice, occurred_at=START)
        contact_cadence_set(actor=alice, contact=contact, cadence_days=30)
    contact.refresh_from_db()
    return contact


def _tick(at: datetime) -> int:
    with time_machine.travel(at, tick=False):
        return nudges.cadence_nudges_make()


def _cadence_reminders(contact: Contact) -> list[tuple[str, str]]:
    return list(
        Reminder.objects.filter(contact=contact, kind=Reminder.Kind.CADENCE).values_list("status", "assignee__email")
    )


def test_the_clock_runs_a_cadence_from_the_last_conversation(contact: Contact) -> None:
    assert contact.cadence_due_at == START + timedelta(days=30)


def test_no_nudge_before_the_cadence_is_over(contact: Contact) -> None:
    assert _tick(START + timedelta(days=29)) == 0
    assert _cadence_reminders(contact) == []


def test_past_the_cadence_the_owner_gets_one_nudge_however_often_beat_ticks(contact: Contact, alice: Any) -> None:
    assert _tick(START + timedelta(days=31)) == 1
    assert _tick(START + timedelta(days=31, minutes=1)) == 0
    assert _tick(START + timedelta(days=32)) == 0
    assert _cadence_reminders(contact) == [(Reminder.Status.OPEN, alice.email)]
    nudge = Reminder.objects.get(contact=contact)
    assert nudge.due_at == START + timedelta(days=30) and nudge.notify_at == nudge.due_at


def test_a_new_conversation_closes_the_nudge_and_restarts_the_clock(contact: Contact, alice: Any) -> None:
    _tick(START + timedelta(days=31))
    talked = START + timedelta(days=32)
    with time_machine.travel(talked, tick=False):
        activity_record(contact=contact, kind=Activity.Kind.MEETING, actor=alice, occurred_at=talked)
    contact.refresh_from_db()
    assert _cadence_reminders(contact) == [(Reminder.Status.DONE, alice.email)]
    assert contact.cadence_due_at == talked + timedelta(days=30)
    assert _tick(talked + timedelta(days=29)) == 0
    assert _tick(talked + timedelta(days=31)) == 1


def test_a_conversation_before_the_breach_moves_the_clock(contact: Contact, alice: Any) -> None:
    talked = START + timedelta(days=20)
    activity_record(contact=contact, kind=Activity.Kind.EMAIL, actor=alice, occurred_at=talked, direction="in")
    assert _tick(START + timedelta(days=31)) == 0
    contact.refresh_from_db()
    assert contact.cadence_due_at == talked + timedelta(days=30)


def test_an_old_conversation_imported_later_resets_nothing(contact: Contact, alice: Any) -> None:
    _tick(START + timedelta(days=31))
    activity_record(contact=contact, kind=Activity.Kind.CALL, actor=alice, occurred_at=START - timedelta(days=90))
    assert _cadence_reminders(contact) == [(Reminder.Status.OPEN, alice.email)]


def test_a_note_is_not_a_conversation(contact: Contact, alice: Any) -> None:
    _tick(START + timedelta(days=31))
    activity_record(contact=contact, kind=Activity.Kind.NOTE, actor=alice)
    assert _cadence_reminders(contact) == [(Reminder.Status.OPEN, alice.email)]


def test_done_by_hand_the_next_nudge_comes_a_cadence_later(contact: Contact, alice: Any) -> None:
    _tick(START + timedelta(days=31))
    done_at = START + timedelta(days=33)
    with time_machine.travel(done_at, tick=False):
        reminder_complete(actor=alice, reminder=Reminder.objects.get(contact=contact))
    contact.refresh_from_db()
    assert contact.cadence_due_at == done_at + timedelta(days=30)


def test_no_nudge_when_the_gate_denies_outreach(contact: Contact, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[int, str]] = []
    # The nudges ask the gate in bulk for the claimed batch: it allows none of them.
    monkeypatch.setattr(
        nudges, "gate_allowed_ids", lambda ids, purpose: asked.extend((pk, purpose) for pk in ids) or set()
    )
    assert _tick(START + timedelta(days=31)) == 1
    assert asked == [(contact.pk, "sales_outreach")]
    assert _cadence_reminders(contact) == []
    contact.refresh_from_db()
    assert contact.cadence_due_at is None  # not asked again every minute


def test_no_nudge_without_an_owner_or_for_archived_contacts(contact: Contact, team: Any) -> None:
    Contact.objects.filter(pk=contact.pk).update(owner=None)
    archived = ContactFactory(team=team, owner=contact.team.members.first(), archived=True)
    Contact.objects.filter(pk=archived.pk).update(cadence_days=7, cadence_due_at=START)
    assert _tick(START + timedelta(days=31)) == 2
    assert not Reminder.objects.exists()


def test_the_owner_or_a_manager_sets_the_cadence_not_a_teammate(
    contact: Contact, bob: Any, mona: Any, client_for: Any
) -> None:
    with pytest.raises(PermissionDenied):
        contact_cadence_set(actor=bob, contact=contact, cadence_days=7)
    url = reverse("contacts:cadence_set", kwargs={"pk": contact.pk})
    assert client_for(bob).post(url, {"cadence_days": "7"}).status_code == 403
    assert client_for(mona).post(url, {"cadence_days": "7"}).status_code == 302
    contact.refresh_from_db()
    assert contact.cadence_days == 7
    assert contact.cadence_due_at == START + timedelta(days=7)


def test_removing_the_cadence_cancels_its_nudge_and_stops_the_clock(contact: Contact, alice: Any) -> None:
    _tick(START + timedelta(days=31))
    contact_cadence_set(actor=alice, contact=contact, cadence_days=None)
    contact.refresh_from_db()
    assert contact.cadence_due_at is None
    assert _cadence_reminders(contact) == [(Reminder.Status.CANCELLED, alice.email)]


def test_editing_the_contact_restarts_the_clock(contact: Contact, alice: Any) -> None:
    contact_update(actor=alice, contact=contact, display_name=contact.display_name, owner=alice, cadence_days=10)
    contact.refresh_from_db()
    assert contact.cadence_due_at == START + timedelta(days=10)


def test_finding_breaches_is_one_query_plus_the_gate_per_breach(
    contact: Contact, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(cadence_due_at=now - timedelta(days=1))
    # savepoint, claim (SELECT ... FOR UPDATE SKIP LOCKED), the gate (1 per contact; 2 with its
    # purpose cache cold), nudges already pending, insert the nudges, the timeline rows (one
    # insert inside activity_record_many's two savepoints: 5), clear the clocks, release.
    with django_assert_max_num_queries(13):
        assert nudges.cadence_nudges_make(now=now) == 1


def test_editing_or_deleting_a_logged_conversation_moves_the_clock_back(contact: Contact, alice: Any) -> None:
    talked = START + timedelta(days=10)
    with time_machine.travel(talked, tick=False):
        call, _ = activity_record(
            contact=contact, kind=Activity.Kind.CALL, actor=alice, occurred_at=talked, source=MANUAL_SOURCE
        )
        contact.refresh_from_db()
        assert contact.cadence_due_at == talked + timedelta(days=30)
        activity_update(actor=alice, activity=call, occurred_at=START + timedelta(days=5))
        contact.refresh_from_db()
        assert contact.cadence_due_at == START + timedelta(days=35)
        activity_delete(actor=alice, activity=call)
    contact.refresh_from_db()
    assert contact.cadence_due_at == START + timedelta(days=30)
    assert _tick(START + timedelta(days=31)) == 1


def test_a_nudge_made_or_closed_automatically_is_on_the_timeline(contact: Contact, alice: Any) -> None:
    _tick(START + timedelta(days=31))
    nudge = Reminder.objects.get(contact=contact)
    talked = START + timedelta(days=32)
    with time_machine.travel(talked, tick=False):
        activity_record(contact=contact, kind=Activity.Kind.CALL, actor=alice, occurred_at=talked)
    rows = list(
        contact.activities.filter(kind__in=[Activity.Kind.REMINDER_CREATED, Activity.Kind.REMINDER_DONE])
        .order_by("id")
        .values_list("kind", "actor", "subject", "payload__reminder_id")
    )
    assert rows == [
        (Activity.Kind.REMINDER_CREATED, None, "Keep in touch reminder set", nudge.pk),
        (Activity.Kind.REMINDER_DONE, None, "Keep in touch reminder done: conversation logged", nudge.pk),
    ]


def test_a_conversation_with_no_nudge_open_writes_no_reminder_row(contact: Contact, alice: Any) -> None:
    activity_record(contact=contact, kind=Activity.Kind.CALL, actor=alice, occurred_at=START + timedelta(days=3))
    assert not contact.activities.exclude(kind=Activity.Kind.CALL).exists()
