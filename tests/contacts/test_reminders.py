"""Reminders: who may set and act on them, recurrence, time zones, the panel and "My reminders"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from contacts.forms_reminders import ReminderForm
from contacts.models import Activity, Reminder
from contacts.selectors_reminders import assignable_users, visible_reminders
from contacts.services import reminders as services
from tests.factories import ContactFactory, ReminderFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def contact(team: Any, alice: Any) -> Any:
    return ContactFactory(team=team, owner=alice)


def _create(actor: Any, contact: Any, assignee: Any | None = None, **kw: Any) -> Reminder:
    kw.setdefault("due_at", timezone.now() + timedelta(days=1))
    return services.reminder_create(actor=actor, contact=contact, assignee=assignee or actor, **kw)


# --- who may do what ------------------------------------------------------------------------


def test_sales_set_reminders_for_themselves_only(alice: Any, bob: Any, contact: Any) -> None:
    reminder = _create(alice, contact)
    assert reminder.assignee == alice and reminder.created_by == alice
    with pytest.raises(PermissionDenied):
        _create(alice, contact, assignee=bob)


def test_managers_assign_to_their_team_members_but_not_to_other_teams(
    mona: Any, alice: Any, bob: Any, charlie: Any, contact: Any
) -> None:
    assert {user.email for user in assignable_users(user=mona, contact=contact)} == {
        alice.email,
        bob.email,
        mona.email,
    }
    assert _create(mona, contact, assignee=bob).assignee == bob
    with pytest.raises(PermissionDenied):
        _create(mona, contact, assignee=charlie)


def test_sales_pick_nobody_but_themselves(alice: Any, bob: Any, contact: Any) -> None:
    assert assignable_users(user=alice, contact=contact) == [alice]
    form = ReminderForm({"due_at": "2030-01-07T09:00", "assignee": bob.pk}, assignees=[alice], default_assignee=alice)
    assert "assignee" not in form.fields
    assert form.is_valid() and form.cleaned_data["assignee"] == alice


def test_reminders_are_seen_by_their_assignee_and_the_teams_managers_only(
    alice: Any, bob: Any, mona: Any, charlie: Any, dpo: Any, contact: Any
) -> None:
    reminder = _create(mona, contact, assignee=alice)
    assert list(visible_reminders(alice)) == [reminder]
    assert list(visible_reminders(mona)) == [reminder]
    assert list(visible_reminders(bob)) == []
    assert list(visible_reminders(charlie)) == []
    assert list(visible_reminders(dpo)) == []


def test_a_member_who_left_the_team_no_longer_sees_their_reminders(alice: Any, team: Any, contact: Any) -> None:
    _create(alice, contact)
    team.members.remove(alice)
    alice._own_teams = None
    assert list(visible_reminders(alice)) == []


def test_only_the_assignee_or_a_manager_completes(alice: Any, bob: Any, mona: Any, contact: Any) -> None:
    reminder = _create(alice, contact)
    with pytest.raises(PermissionDenied):
        services.reminder_complete(actor=bob, reminder=reminder)
    services.reminder_complete(actor=mona, reminder=reminder)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.DONE and reminder.completed_by == mona


# --- timeline -----------------------------------------------------------------------------------


def test_creating_completing_and_snoozing_write_the_timeline(alice: Any, contact: Any) -> None:
    reminder = _create(alice, contact, note="Send the deck")
    services.reminder_snooze(actor=alice, reminder=reminder, until=timezone.now() + timedelta(days=3))
    services.reminder_complete(actor=alice, reminder=reminder)
    rows = list(contact.activities.order_by("id").values_list("kind", "actor", "body"))
    assert rows == [
        (Activity.Kind.REMINDER_CREATED, alice.pk, "Send the deck"),
        (Activity.Kind.REMINDER_SNOOZED, alice.pk, "Send the deck"),
        (Activity.Kind.REMINDER_DONE, alice.pk, "Send the deck"),
    ]


def test_completing_twice_does_nothing_the_second_time(alice: Any, contact: Any) -> None:
    reminder = _create(alice, contact)
    services.reminder_complete(actor=alice, reminder=reminder)
    assert services.reminder_complete(actor=alice, reminder=reminder) is None
    assert contact.activities.filter(kind=Activity.Kind.REMINDER_DONE).count() == 1


def test_snoozing_moves_the_due_time_and_the_pending_notification(alice: Any, contact: Any) -> None:
    reminder = _create(alice, contact)
    until = timezone.now() + timedelta(days=2)
    services.reminder_snooze(actor=alice, reminder=reminder, until=until)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.due_at, reminder.notify_at) == (Reminder.Status.SNOOZED, until, until)


# --- recurrence ----------------------------------------------------------------------------------


@time_machine.travel(datetime(2024, 1, 31, 10, 0, tzinfo=UTC), tick=False)
def test_monthly_from_31_january_falls_on_29_february_then_31_march(alice: Any, contact: Any) -> None:
    reminder = _create(
        alice, contact, due_at=datetime(2024, 1, 31, 9, 0, tzinfo=UTC), recurrence=Reminder.Recurrence.MONTHLY
    )
    second = services.reminder_complete(actor=alice, reminder=reminder)
    assert second is not None and second.due_at == datetime(2024, 2, 29, 9, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2024, 2, 29, 10, 0, tzinfo=UTC), tick=False):
        third = services.reminder_complete(actor=alice, reminder=second)
    # Counted from 31 January, not from 29 February: no drift to the 29th.
    assert third is not None and third.due_at == datetime(2024, 3, 31, 9, 0, tzinfo=UTC)
    assert third.status == Reminder.Status.OPEN and third.notify_at == third.due_at


@time_machine.travel(datetime(2023, 1, 31, 10, 0, tzinfo=UTC), tick=False)
def test_monthly_in_a_common_year_falls_on_28_february(alice: Any, contact: Any) -> None:
    reminder = _create(
        alice, contact, due_at=datetime(2023, 1, 31, 9, 0, tzinfo=UTC), recurrence=Reminder.Recurrence.MONTHLY
    )
    following = services.reminder_complete(actor=alice, reminder=reminder)
    assert following is not None and following.due_at == datetime(2023, 2, 28, 9, 0, tzinfo=UTC)


@time_machine.travel(datetime(2024, 3, 29, 12, 0, tzinfo=UTC), tick=False)
def test_a_weekly_reminder_keeps_its_local_hour_across_the_dst_change(alice: Any, contact: Any) -> None:
    alice.time_zone = "Europe/Paris"
    alice.save(update_fields=["time_zone"])
    # Friday 29 March 2024, 09:00 in Paris (UTC+1); clocks go forward on Sunday 31 March.
    first = datetime(2024, 3, 29, 9, 0, tzinfo=PARIS)
    reminder = _create(alice, contact, due_at=first, recurrence=Reminder.Recurrence.WEEKLY)
    following = services.reminder_complete(actor=alice, reminder=reminder)
    assert following is not None
    assert following.due_at.astimezone(PARIS).hour == 9
    # In absolute time the week was an hour short (compare in UTC: same-zone subtraction is wall-clock).
    assert following.due_at.astimezone(UTC) - first.astimezone(UTC) == timedelta(days=7) - timedelta(hours=1)


@time_machine.travel(datetime(2024, 1, 20, 12, 0, tzinfo=UTC), tick=False)
def test_completing_a_series_late_skips_to_the_next_future_occurrence(alice: Any, contact: Any) -> None:
    reminder = _create(
        alice,
        contact,
        due_at=datetime(2024, 1, 1, 9, 0, tzinfo=UTC),
        recurrence=Reminder.Recurrence.EVERY_N_DAYS,
        interval_days=3,
    )
    following = services.reminder_complete(actor=alice, reminder=reminder)
    # 1 Jan + 7 x 3 days = 22 Jan: the first occurrence after now (20 Jan).
    assert following is not None and following.due_at == datetime(2024, 1, 22, 9, 0, tzinfo=UTC)
    assert following.series_index == 7


def test_cancelling_stops_a_series(alice: Any, contact: Any) -> None:
    reminder = _create(alice, contact, recurrence=Reminder.Recurrence.DAILY)
    services.reminder_cancel(actor=alice, reminder=reminder)
    assert list(Reminder.objects.values_list("status", flat=True)) == [Reminder.Status.CANCELLED]


# --- time zones ----------------------------------------------------------------------------------


def test_due_times_are_read_in_the_users_time_zone(alice: Any, contact: Any, client_for: Any) -> None:
    alice.time_zone = "America/New_York"
    alice.save(update_fields=["time_zone"])
    client_for(alice).post(
        reverse("contacts:reminder_create", kwargs={"pk": contact.pk}), {"due_at": "2030-07-01T09:00", "note": "x"}
    )
    assert Reminder.objects.get().due_at == datetime(2030, 7, 1, 13, 0, tzinfo=UTC)


def test_a_time_skipped_by_the_dst_change_is_refused(alice: Any, contact: Any, client_for: Any) -> None:
    alice.time_zone = "Europe/Paris"
    alice.save(update_fields=["time_zone"])
    response = client_for(alice).post(
        reverse("contacts:reminder_create", kwargs={"pk": contact.pk}), {"due_at": "2030-03-31T02:30"}
    )
    assert response.status_code == 400
    assert "Europe/Paris" in response.content.decode()
    assert not Reminder.objects.exists()


def test_an_ambiguous_time_of_the_fall_back_night_is_refused(alice: Any, contact: Any, client_for: Any) -> None:
    # 02:30 happens twice in Paris on 27 October 2030 (clocks go back from 03:00 to 02:00):
    # refused rather than guessed; the user picks 01:59 or 03:00.
    alice.time_zone = "Europe/Paris"
    alice.save(update_fields=["time_zone"])
    url = reverse("contacts:reminder_create", kwargs={"pk": contact.pk})
    response = client_for(alice).post(url, {"due_at": "2030-10-27T02:30"})
    assert response.status_code == 400
    assert "Europe/Paris" in response.content.decode()
    assert not Reminder.objects.exists()
    assert client_for(alice).post(url, {"due_at": "2030-10-27T03:00"}).status_code == 302
    assert Reminder.objects.get().due_at == datetime(2030, 10, 27, 2, 0, tzinfo=UTC)


def test_snooze_until_tomorrow_morning_is_nine_in_the_users_zone() -> None:
    now = datetime(2024, 3, 30, 22, 0, tzinfo=UTC)  # 23:00 in Paris, the night before the change
    until = services.snooze_until("tomorrow", zone=PARIS, now=now)
    assert until.astimezone(PARIS) == datetime(2024, 3, 31, 9, 0, tzinfo=PARIS)
    assert until == datetime(2024, 3, 31, 7, 0, tzinfo=UTC)  # already summer time (UTC+2)


# --- the contact page's panel --------------------------------------------------------------------


def test_the_panel_adds_a_reminder_without_javascript(alice: Any, contact: Any, client_for: Any) -> None:
    url = reverse("contacts:reminder_create", kwargs={"pk": contact.pk})
    response = client_for(alice).post(url, {"due_at": "2030-01-07T09:00", "note": "Call back"})
    assert response.status_code == 302
    assert response["Location"].endswith(reverse("contacts:detail", kwargs={"pk": contact.pk}) + "#reminders")
    assert Reminder.objects.get().note == "Call back"


def test_the_panel_swaps_itself_with_htmx(alice: Any, contact: Any, client_for: Any) -> None:
    url = reverse("contacts:reminder_create", kwargs={"pk": contact.pk})
    response = client_for(alice).post(url, {"due_at": "2030-01-07T09:00", "note": "Call back"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="reminders"' in html and "Call back" in html and "<html" not in html


def test_the_panel_loads_its_new_reminder_form_when_opened(
    mona: Any, alice: Any, bob: Any, contact: Any, client_for: Any
) -> None:
    client = client_for(mona)
    url = reverse("contacts:reminder_create", kwargs={"pk": contact.pk})
    html = client.get(reverse("contacts:detail", kwargs={"pk": contact.pk})).content.decode()
    panel = html.split('id="reminders"', 1)[1].split('data-panel="', 1)[0]
    # Folded away: no form built; opening the disclosure asks for it (htmx), and without
    # JavaScript it links to the form on a page of its own.
    assert 'name="due_at"' not in panel
    assert f'hx-get="{url}"' in panel and 'hx-trigger="toggle once"' in panel and f'href="{url}"' in panel

    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<form method="post"') and "<html" not in fragment
    # The form's answer replaces the panel, not the disclosure that loaded it.
    assert 'hx-target="#reminders"' in fragment and 'name="csrfmiddlewaretoken"' in fragment
    # The manager picks among the team's people.
    assert f'<option value="{bob.pk}">{bob}</option>' in fragment
    assert f'<option value="{alice.pk}">{alice}</option>' in fragment

    page = client.get(url).content.decode()
    assert "<html" in page and 'name="due_at"' in page and '<details class="details" open>' in page


def test_an_invalid_reminder_shows_the_form_open_with_its_errors(alice: Any, contact: Any, client_for: Any) -> None:
    url = reverse("contacts:reminder_create", kwargs={"pk": contact.pk})
    response = client_for(alice).post(url, {"due_at": ""}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert '<details class="details" open>' in html and 'class="field-error"' in html


def test_the_panel_is_on_the_contact_page(alice: Any, contact: Any, client_for: Any) -> None:
    _create(alice, contact, note="Ask about the pilot")
    html = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": contact.pk})).content.decode()
    assert 'data-panel="reminders"' in html and "Ask about the pilot" in html


def test_complete_and_snooze_from_the_panel(alice: Any, contact: Any, client_for: Any) -> None:
    first, second = _create(alice, contact), _create(alice, contact)
    client = client_for(alice)
    panel = client.get(reverse("contacts:contact_reminders", kwargs={"pk": contact.pk})).content.decode()
    forms = panel.split('<form method="post"')[1:]
    assert len(forms) >= 4  # done and snooze for each, the cadence
    assert all('name="csrfmiddlewaretoken"' in form.split("</form>", 1)[0] for form in forms)
    client.post(reverse("contacts:reminder_complete", kwargs={"pk": first.pk}), HTTP_HX_REQUEST="true")
    client.post(reverse("contacts:reminder_snooze", kwargs={"pk": second.pk}), {"preset": "next_week"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Reminder.Status.DONE
    assert second.status == Reminder.Status.SNOOZED and second.due_at.astimezone(UTC).weekday() == 0


@pytest.mark.parametrize("size", [1, 15])
def test_the_panel_runs_a_constant_number_of_queries(
    size: int, mona: Any, alice: Any, bob: Any, contact: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    for index in range(size):
        ReminderFactory(contact=contact, assignee=alice if index % 2 else bob, due_at=now + timedelta(days=index))
        ReminderFactory(contact=contact, assignee=alice, status=Reminder.Status.DONE, completed_at=now, due_at=now)
    client = client_for(mona)
    url = reverse("contacts:contact_reminders", kwargs={"pk": contact.pk})
    # 1 user, 2 roles, 3 visible teams, 4 the contact, 5 the reminders with their assignees,
    # 6 may she set the cadence (the new-reminder form and its picker are loaded when opened).
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.content.decode().count("/complete/") == 2 * size  # form action and hx-post


def test_charlie_gets_404_on_alices_contacts_reminders(alice: Any, charlie: Any, contact: Any, client_for: Any) -> None:
    reminder = _create(alice, contact)
    client = client_for(charlie)
    assert client.get(reverse("contacts:contact_reminders", kwargs={"pk": contact.pk})).status_code == 404
    assert client.post(reverse("contacts:reminder_complete", kwargs={"pk": reminder.pk})).status_code == 404
    create = reverse("contacts:reminder_create", kwargs={"pk": contact.pk})
    assert client.post(create, {"due_at": "2030-01-07T09:00"}).status_code == 404
    assert client.get(create, HTTP_HX_REQUEST="true").status_code == 404
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.OPEN


def test_bob_cannot_touch_alices_reminder(alice: Any, bob: Any, contact: Any, client_for: Any) -> None:
    reminder = _create(alice, contact)
    response = client_for(bob).post(reverse("contacts:reminder_complete", kwargs={"pk": reminder.pk}))
    assert response.status_code == 404
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.OPEN


def test_a_manager_cannot_assign_outside_the_picker(mona: Any, charlie: Any, contact: Any, client_for: Any) -> None:
    url = reverse("contacts:reminder_create", kwargs={"pk": contact.pk})
    response = client_for(mona).post(url, {"due_at": "2030-01-07T09:00", "assignee": charlie.pk})
    assert response.status_code == 400
    assert not Reminder.objects.exists()


# --- My reminders ----------------------------------------------------------------------------------


def _populate(alice: Any, team: Any, size: int) -> None:
    now = timezone.now()
    for index in range(size):
        contact = ContactFactory(team=team, owner=alice)
        ReminderFactory(contact=contact, assignee=alice, due_at=now - timedelta(hours=index + 1))
        ReminderFactory(contact=contact, assignee=alice, due_at=now + timedelta(days=index + 2))
        ReminderFactory(contact=contact, assignee=alice, status=Reminder.Status.DONE, completed_at=now, due_at=now)


@time_machine.travel(datetime(2024, 6, 3, 12, 0, tzinfo=UTC), tick=False)
def test_my_reminders_has_overdue_today_upcoming_and_done(alice: Any, bob: Any, team: Any, client_for: Any) -> None:
    now = timezone.now()
    names = {}
    for label, due, status in [
        ("Olive Overdue", now - timedelta(hours=3), Reminder.Status.OPEN),
        ("Tara Today", now + timedelta(hours=3), Reminder.Status.SNOOZED),
        ("Uma Upcoming", now + timedelta(days=3), Reminder.Status.OPEN),
        ("Dora Done", now - timedelta(days=1), Reminder.Status.DONE),
    ]:
        contact = ContactFactory(team=team, owner=alice, display_name=label)
        names[label] = ReminderFactory(
            contact=contact, assignee=alice, due_at=due, status=status, completed_at=now if status == "done" else None
        )
    ReminderFactory(contact=ContactFactory(team=team, display_name="Bobs Person"), assignee=bob)
    html = client_for(alice).get(reverse("contacts:reminders")).content.decode()
    sections = {
        key: html.split(f'id="section-{key}"')[1].split("</section>")[0]
        for key in ("overdue", "today", "upcoming", "done")
    }
    assert "Olive Overdue" in sections["overdue"]
    assert "Tara Today" in sections["today"]
    assert "Uma Upcoming" in sections["upcoming"]
    assert "Dora Done" in sections["done"]
    assert "Bobs Person" not in html


def test_bulk_complete_and_snooze(alice: Any, bob: Any, team: Any, client_for: Any) -> None:
    contact = ContactFactory(team=team, owner=alice)
    first, second, third = (ReminderFactory(contact=contact, assignee=alice) for _ in range(3))
    bobs = ReminderFactory(contact=contact, assignee=bob)
    client = client_for(alice)
    url = reverse("contacts:reminder_bulk")
    client.post(url, {"action": "complete", "ids": [first.pk, second.pk, bobs.pk]})
    client.post(url, {"action": "snooze", "preset": "hour", "ids": [third.pk]})
    statuses = dict(Reminder.objects.values_list("pk", "status"))
    assert statuses == {
        first.pk: Reminder.Status.DONE,
        second.pk: Reminder.Status.DONE,
        third.pk: Reminder.Status.SNOOZED,
        bobs.pk: Reminder.Status.OPEN,  # not alice's to touch
    }


@pytest.mark.parametrize("size", [1, 20])
def test_my_reminders_runs_a_constant_number_of_queries(
    size: int, alice: Any, team: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    _populate(alice, team, size)
    client = client_for(alice)
    # 1 session, 2 user, 3 roles, 4 visible teams, 5-8 overdue / today / upcoming / done with
    # their contacts, 9 the contacts' privacy rules, 10 calendar feed, 11 the bell.
    with django_assert_max_num_queries(11):
        response = client.get(reverse("contacts:reminders"))
    assert response.content.decode().count('name="ids"') == 2 * size


def test_the_dpo_has_no_reminders_pages(dpo: Any, client_for: Any) -> None:
    assert client_for(dpo).get(reverse("contacts:reminders")).status_code == 403


def test_a_manager_lists_a_team_members_reminders_not_another_teams(
    mona: Any, alice: Any, charlie: Any, contact: Any, other_team: Any, client_for: Any
) -> None:
    ReminderFactory(contact=contact, assignee=alice, due_at=timezone.now() + timedelta(days=2))
    ReminderFactory(contact=ContactFactory(team=other_team, display_name="Charlies Person"), assignee=charlie)
    client = client_for(mona)
    html = client.get(reverse("contacts:reminders"), {"assignee": alice.pk}).content.decode()
    assert f"Reminders of {alice}" in html and contact.display_name in html
    assert f'<option value="{alice.pk}" selected>' in html and f'value="{charlie.pk}"' not in html
    assert client.get(reverse("contacts:reminders"), {"assignee": charlie.pk}).status_code == 404
    assert client.get(reverse("contacts:reminders"), {"assignee": "x"}).status_code == 404


def test_sales_list_only_their_own_reminders(alice: Any, bob: Any, client_for: Any) -> None:
    client = client_for(alice)
    assert client.get(reverse("contacts:reminders"), {"assignee": bob.pk}).status_code == 404
    html = client.get(reverse("contacts:reminders"), {"assignee": alice.pk}).content.decode()
    assert "My reminders" in html and 'name="assignee"' not in html
