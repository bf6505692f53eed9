"""Awaiting reply: an outbound email without an answer nudges its sender; a reply closes the nudge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from contacts.models import Activity, Contact, Reminder, TeamSettings
from contacts.services import nudges
from contacts.services.reminders import team_settings_set
from contacts.services.timeline import MANUAL_SOURCE, activity_delete, activity_record, activity_update
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

SENT = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def contact(team: Any, alice: Any) -> Contact:
    return ContactFactory(team=team, owner=alice)


def _email(contact: Contact, direction: str, at: datetime, actor: Any = None) -> None:
    with time_machine.travel(at, tick=False):
        activity_record(contact=contact, kind=Activity.Kind.EMAIL, actor=actor, occurred_at=at, direction=direction)


def _tick(at: datetime) -> int:
    with time_machine.travel(at, tick=False):
        return nudges.awaiting_reply_nudges_make()


def _nudges(contact: Contact) -> list[tuple[str, str]]:
    return list(
        Reminder.objects.filter(contact=contact, kind=Reminder.Kind.AWAITING_REPLY).values_list(
            "status", "assignee__email"
        )
    )


def test_the_sender_is_nudged_after_three_days_without_a_reply(contact: Contact, bob: Any) -> None:
    _email(contact, "out", SENT, actor=bob)
    assert _tick(SENT + timedelta(days=2, hours=23)) == 0
    assert _tick(SENT + timedelta(days=3, minutes=1)) == 1
    assert _tick(SENT + timedelta(days=3, minutes=2)) == 0
    # bob sent it, so bob is nudged, not alice (the owner).
    assert _nudges(contact) == [(Reminder.Status.OPEN, bob.email)]
    assert Reminder.objects.get().due_at == SENT + timedelta(days=3)


def test_without_a_known_sender_the_owner_is_nudged(contact: Contact, alice: Any) -> None:
    _email(contact, "out", SENT)
    _tick(SENT + timedelta(days=4))
    assert _nudges(contact) == [(Reminder.Status.OPEN, alice.email)]


def test_a_reply_closes_the_nudge(contact: Contact, bob: Any) -> None:
    _email(contact, "out", SENT, actor=bob)
    _tick(SENT + timedelta(days=4))
    _email(contact, "in", SENT + timedelta(days=5))
    assert _nudges(contact) == [(Reminder.Status.DONE, bob.email)]
    contact.refresh_from_db()
    assert contact.reply_due_at is None and not contact.awaiting_reply


def test_a_reply_in_time_means_no_nudge(contact: Contact, bob: Any) -> None:
    _email(contact, "out", SENT, actor=bob)
    _email(contact, "in", SENT + timedelta(days=1))
    assert _tick(SENT + timedelta(days=10)) == 0
    assert _nudges(contact) == []


def test_a_follow_up_email_answers_the_nudge_and_starts_waiting_again(contact: Contact, bob: Any) -> None:
    _email(contact, "out", SENT, actor=bob)
    _tick(SENT + timedelta(days=4))
    _email(contact, "out", SENT + timedelta(days=5), actor=bob)
    assert _nudges(contact) == [(Reminder.Status.DONE, bob.email)]
    _tick(SENT + timedelta(days=8, minutes=1))
    assert sorted(_nudges(contact)) == [(Reminder.Status.DONE, bob.email), (Reminder.Status.OPEN, bob.email)]


def test_one_nudge_per_email_even_when_done_by_hand(contact: Contact, bob: Any) -> None:
    _email(contact, "out", SENT, actor=bob)
    _tick(SENT + timedelta(days=4))
    Reminder.objects.update(status=Reminder.Status.DONE)
    activity_record(contact=contact, kind=Activity.Kind.CALL, actor=bob, occurred_at=SENT + timedelta(days=4))
    assert _tick(SENT + timedelta(days=9)) == 0
    assert len(_nudges(contact)) == 1


def test_the_team_chooses_how_long_to_wait(contact: Contact, team: Any, mona: Any, bob: Any) -> None:
    team_settings_set(actor=mona, team=team, awaiting_reply_days=7)
    assert TeamSettings.objects.get(team=team).awaiting_reply_days == 7
    _email(contact, "out", SENT, actor=bob)
    assert _tick(SENT + timedelta(days=5)) == 0
    assert _tick(SENT + timedelta(days=7, minutes=1)) == 1


def test_the_gate_is_asked_before_nudging(contact: Contact, bob: Any) -> None:
    from contacts.registry import gate_consultations

    _email(contact, "out", SENT, actor=bob)
    with gate_consultations() as asked:
        _tick(SENT + timedelta(days=4))
    assert asked == ["sales_outreach"]


def _meeting(contact: Contact, at: datetime, actor: Any) -> None:
    with time_machine.travel(at, tick=False):
        activity_record(contact=contact, kind=Activity.Kind.MEETING, actor=actor, occurred_at=at)


def test_a_reply_synced_after_a_later_meeting_still_stops_the_clock(contact: Contact, bob: Any) -> None:
    # Email out on day 0, meeting logged on day 2, then the reply of day 1 comes in by sync.
    _email(contact, "out", SENT, actor=bob)
    _meeting(contact, SENT + timedelta(days=2), bob)
    with time_machine.travel(SENT + timedelta(days=2, hours=1), tick=False):
        activity_record(contact=contact, kind=Activity.Kind.EMAIL, occurred_at=SENT + timedelta(days=1), direction="in")
    contact.refresh_from_db()
    assert contact.reply_due_at is None
    assert _tick(SENT + timedelta(days=4)) == 0
    assert _nudges(contact) == []


def test_a_reply_synced_after_a_later_meeting_closes_the_nudge(contact: Contact, bob: Any) -> None:
    _email(contact, "out", SENT, actor=bob)
    _tick(SENT + timedelta(days=3, minutes=1))
    _meeting(contact, SENT + timedelta(days=4), bob)
    activity_record(
        contact=contact, kind=Activity.Kind.EMAIL, occurred_at=SENT + timedelta(days=3, hours=2), direction="in"
    )
    assert _nudges(contact) == [(Reminder.Status.DONE, bob.email)]


def test_a_reply_older_than_the_last_email_changes_nothing(contact: Contact, bob: Any) -> None:
    _email(contact, "out", SENT, actor=bob)
    activity_record(contact=contact, kind=Activity.Kind.EMAIL, occurred_at=SENT - timedelta(days=1), direction="in")
    contact.refresh_from_db()
    assert contact.reply_due_at == SENT + timedelta(days=3)


def test_deleting_a_logged_email_or_reply_recomputes_the_reply_clock(contact: Contact, bob: Any) -> None:
    with time_machine.travel(SENT, tick=False):
        sent, _ = activity_record(
            contact=contact,
            kind=Activity.Kind.EMAIL,
            actor=bob,
            occurred_at=SENT,
            direction="out",
            source=MANUAL_SOURCE,
        )
        reply, _ = activity_record(
            contact=contact,
            kind=Activity.Kind.EMAIL,
            actor=bob,
            occurred_at=SENT + timedelta(hours=1),
            direction="in",
            source=MANUAL_SOURCE,
        )
        contact.refresh_from_db()
        assert contact.reply_due_at is None
        activity_delete(actor=bob, activity=reply)  # logged by mistake: waiting again
        contact.refresh_from_db()
        assert contact.reply_due_at == SENT + timedelta(days=3)
        activity_update(actor=bob, activity=sent, occurred_at=SENT - timedelta(days=1), direction="out")
        contact.refresh_from_db()
        assert contact.reply_due_at == SENT + timedelta(days=2)
        activity_delete(actor=bob, activity=sent)
    contact.refresh_from_db()
    assert contact.reply_due_at is None
    assert _tick(SENT + timedelta(days=10)) == 0


def test_recomputing_does_not_nudge_twice_about_the_same_email(contact: Contact, bob: Any) -> None:
    _email(contact, "out", SENT, actor=bob)
    _tick(SENT + timedelta(days=4))
    with time_machine.travel(SENT + timedelta(days=4), tick=False):
        call, _ = activity_record(contact=contact, kind=Activity.Kind.CALL, actor=bob, source=MANUAL_SOURCE)
        activity_delete(actor=bob, activity=call)
    contact.refresh_from_db()
    assert contact.reply_due_at is None
    assert _tick(SENT + timedelta(days=5)) == 0


def test_the_awaiting_reply_nudge_and_its_closing_are_on_the_timeline(contact: Contact, bob: Any) -> None:
    _email(contact, "out", SENT, actor=bob)
    _tick(SENT + timedelta(days=4))
    _email(contact, "in", SENT + timedelta(days=5))
    assert list(contact.activities.filter(source="reminders").order_by("id").values_list("kind", "subject")) == [
        (Activity.Kind.REMINDER_CREATED, "Awaiting reply reminder set"),
        (Activity.Kind.REMINDER_DONE, "Awaiting reply reminder done: conversation logged"),
    ]
