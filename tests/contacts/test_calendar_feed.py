"""The per-user secret calendar feed: parsed back with icalendar, rotated, never someone else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from icalendar import Calendar

from contacts.calendar import calendar_feed_rotate, calendar_feed_url
from tests.factories import ContactFactory, ReminderFactory

pytestmark = pytest.mark.django_db

DUE = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def _feed_path(feed: Any) -> str:
    return reverse("contacts:calendar_feed", kwargs={"feed_id": feed.pk, "token": feed.token})


def test_the_feed_lists_the_users_open_reminders(alice: Any, bob: Any, team: Any, client: Any, settings: Any) -> None:
    settings.SITE_URL = "https://crm.example"
    contact = ContactFactory(team=team, display_name="Ada Lovelace")
    mine = ReminderFactory(contact=contact, assignee=alice, due_at=DUE, note="Secret plans")
    ReminderFactory(contact=contact, assignee=alice, status="done", due_at=DUE)
    ReminderFactory(contact=ContactFactory(team=team, display_name="Bobs Person"), assignee=bob, due_at=DUE)
    feed = calendar_feed_rotate(actor=alice)
    response = client.get(_feed_path(feed))  # anonymous: calendar apps cannot sign in
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["summary"]) == "Reminder: Ada Lovelace"
    assert event.decoded("dtstart") == DUE
    assert event.decoded("dtend") == DUE + timedelta(minutes=15)
    assert str(event["uid"]) == f"reminder-{mine.pk}@socialcrm"
    assert str(event["url"]) == f"https://crm.example{reverse('contacts:detail', kwargs={'pk': contact.pk})}"
    assert b"Secret plans" not in response.content  # notes stay in the CRM


def test_a_wrong_token_or_feed_is_404(alice: Any, bob: Any, client: Any) -> None:
    feed = calendar_feed_rotate(actor=alice)
    bobs = calendar_feed_rotate(actor=bob)
    wrong = reverse("contacts:calendar_feed", kwargs={"feed_id": feed.pk, "token": feed.token[:-1] + "x"})
    swapped = reverse("contacts:calendar_feed", kwargs={"feed_id": feed.pk, "token": bobs.token})
    assert client.get(wrong).status_code == 404
    assert client.get(swapped).status_code == 404


def test_rotating_kills_the_old_url(alice: Any, client: Any, client_for: Any) -> None:
    old = calendar_feed_rotate(actor=alice)
    old_path = _feed_path(old)
    response = client_for(alice).post(reverse("contacts:calendar_rotate"))
    assert response.status_code == 302
    old.refresh_from_db()
    assert client.get(old_path).status_code == 404
    assert client.get(_feed_path(old)).status_code == 200


def test_the_reminders_page_shows_the_feed_url(alice: Any, client_for: Any, settings: Any) -> None:
    settings.SITE_URL = "https://crm.example"
    client = client_for(alice)
    assert "Make my calendar address" in client.get(reverse("contacts:reminders")).content.decode()
    client.post(reverse("contacts:calendar_rotate"))
    from contacts.calendar import calendar_feed_of

    url = calendar_feed_url(calendar_feed_of(alice))  # type: ignore[arg-type]
    assert url.startswith("https://crm.example/") and url.endswith(".ics")
    assert url in client.get(reverse("contacts:reminders")).content.decode()


def test_a_deactivated_user_s_feed_is_gone(alice: Any, client: Any) -> None:
    feed = calendar_feed_rotate(actor=alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert client.get(_feed_path(feed)).status_code == 404


def test_someone_who_left_the_team_no_longer_sees_its_contacts_in_the_feed(alice: Any, team: Any, client: Any) -> None:
    ReminderFactory(contact=ContactFactory(team=team), assignee=alice, due_at=DUE)
    feed = calendar_feed_rotate(actor=alice)
    team.members.remove(alice)
    assert Calendar.from_ical(client.get(_feed_path(feed)).content).walk("VEVENT") == []
