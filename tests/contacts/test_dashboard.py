"""The manager's team dashboard and the home page's reminders section."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Activity, Reminder
from contacts.selectors_reminders import team_dashboard
from contacts.services.reminders import team_settings_set
from contacts.services.timeline import activity_record
from tests.factories import ContactFactory, ReminderFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_per_person_open_overdue_cadence_and_awaiting_reply(
    mona: Any, alice: Any, bob: Any, charlie: Any, team: Any, other_team: Any
) -> None:
    now = timezone.now()
    contact = ContactFactory(team=team, owner=alice)
    ReminderFactory(contact=contact, assignee=alice, due_at=now - timedelta(days=1))
    ReminderFactory(contact=contact, assignee=alice, due_at=now + timedelta(days=1))
    ReminderFactory(contact=contact, assignee=bob, due_at=now - timedelta(days=3))
    ReminderFactory(contact=contact, assignee=alice, status="done", completed_at=now)
    ReminderFactory(contact=ContactFactory(team=other_team), assignee=charlie, due_at=now - timedelta(days=1))
    # alice: one contact past its cadence (clock run out), one with a pending cadence nudge.
    ContactFactory(team=team, owner=alice).__class__.objects.filter(pk=contact.pk).update(
        cadence_days=7, cadence_due_at=now - timedelta(days=1)
    )
    nudged = ContactFactory(team=team, owner=alice)
    ReminderFactory(contact=nudged, assignee=alice, kind=Reminder.Kind.CADENCE, due_at=now + timedelta(hours=1))
    # bob: two emails unanswered for longer than the team's 3 days; one answered, one too recent,
    # one call (not an email) unanswered.
    for sent, replied, kind in [
        (now - timedelta(days=5), None, Activity.Kind.EMAIL),
        (now - timedelta(days=4), now - timedelta(days=6), Activity.Kind.EMAIL),
        (now - timedelta(days=5), now - timedelta(days=4), Activity.Kind.EMAIL),
        (now - timedelta(days=1), None, Activity.Kind.EMAIL),
        (now - timedelta(days=5), None, Activity.Kind.CALL),
    ]:
        person = ContactFactory(team=team, owner=bob)
        activity_record(contact=person, kind=kind, occurred_at=sent, direction="out")
        if replied:
            activity_record(contact=person, kind=Activity.Kind.EMAIL, occurred_at=replied, direction="in")
    rows = {row.user.email: row for row in team_dashboard(user=mona).people}
    assert charlie.email not in rows
    assert (rows[alice.email].open, rows[alice.email].overdue, rows[alice.email].past_cadence) == (3, 1, 2)
    assert (rows[bob.email].open, rows[bob.email].overdue, rows[bob.email].awaiting_reply) == (1, 1, 2)


def test_the_chart_counts_overdue_reminders_at_each_week_end(mona: Any, alice: Any, team: Any) -> None:
    now = timezone.now()
    contact = ContactFactory(team=team, owner=alice)
    # Due 3.5 weeks ago, done 1.5 weeks ago: overdue at the week ends 3 and 2 weeks ago.
    early = ReminderFactory(
        contact=contact,
        assignee=alice,
        due_at=now - timedelta(weeks=3, days=3),
        status="done",
        completed_at=now - timedelta(weeks=1, days=3),
    )
    Reminder.objects.filter(pk=early.pk).update(created_at=now - timedelta(weeks=5))
    recent = ReminderFactory(contact=contact, assignee=alice, due_at=now - timedelta(days=3))
    Reminder.objects.filter(pk=recent.pk).update(created_at=now - timedelta(days=10))
    history = {row.user.email: row.history for row in team_dashboard(user=mona).people}
    assert history[alice.email] == [0, 0, 0, 0, 1, 1, 0, 1]


def test_the_page_draws_an_accessible_svg_chart(mona: Any, alice: Any, team: Any, client_for: Any) -> None:
    ReminderFactory(contact=ContactFactory(team=team), assignee=alice, due_at=timezone.now() - timedelta(days=1))
    html = client_for(mona).get(reverse("contacts:team_dashboard")).content.decode()
    svg = html.split("<svg", 2)[2].split("</svg>")[0]  # the first <svg> is the bell's icon
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "Alice Archer: 0, 0, 0, 0, 0, 0, 0, 1" in svg
    assert "<script" not in html.split("<main")[1]


def test_sales_have_no_team_dashboard(alice: Any, client_for: Any) -> None:
    assert client_for(alice).get(reverse("contacts:team_dashboard")).status_code == 403


def test_a_manager_changes_only_their_own_teams_settings(
    mona: Any, other_team: Any, team: Any, client_for: Any
) -> None:
    client = client_for(mona)
    url = reverse("contacts:team_settings", kwargs={"team_id": other_team.pk})
    assert client.post(url, {"awaiting_reply_days": "9"}).status_code == 404
    client.post(reverse("contacts:team_settings", kwargs={"team_id": team.pk}), {"awaiting_reply_days": "9"})
    assert team.reminder_settings.awaiting_reply_days == 9


@pytest.mark.parametrize("size", [1, 15])
def test_the_dashboard_runs_a_constant_number_of_queries(
    size: int, mona: Any, team: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    for index in range(size):
        person = UserFactory()
        team.members.add(person)
        contact = ContactFactory(team=team, owner=person, cadence_days=7)
        ReminderFactory(contact=contact, assignee=person, due_at=now - timedelta(days=index + 1))
    client = client_for(mona)
    # 1 session, 2 user, 3 roles, 4 teams, 5 people, 6 open/overdue, 7 past cadence, 8 awaiting reply,
    # 9 the 8-week history, 10 team settings, 11 the bell.
    with django_assert_max_num_queries(11):
        response = client.get(reverse("contacts:team_dashboard"))
    assert response.content.decode().count('<th scope="row">') == size + 1


def test_the_home_page_shows_todays_reminders_and_recent_activity(alice: Any, team: Any, client_for: Any) -> None:
    now = timezone.now()
    ReminderFactory(
        contact=ContactFactory(team=team, display_name="Olive Overdue"), assignee=alice, due_at=now - timedelta(days=1)
    )
    ReminderFactory(
        contact=ContactFactory(team=team, display_name="Nora Nextweek"), assignee=alice, due_at=now + timedelta(days=8)
    )
    html = client_for(alice).get(reverse("home")).content.decode()
    assert "Today's reminders" in html and "Olive Overdue" in html
    assert "Nora Nextweek" not in html
    assert "Your recent activity" in html


def test_the_dpos_home_page_has_no_reminders(dpo: Any, client_for: Any) -> None:
    html = client_for(dpo).get(reverse("home")).content.decode()
    assert "Today's reminders" not in html and "Nothing needs your attention" in html


def test_awaiting_reply_follows_the_teams_delay(mona: Any, bob: Any, team: Any) -> None:
    person = ContactFactory(team=team, owner=bob)
    activity_record(
        contact=person, kind=Activity.Kind.EMAIL, occurred_at=timezone.now() - timedelta(days=5), direction="out"
    )
    assert {row.user.pk: row.awaiting_reply for row in team_dashboard(user=mona).people}[bob.pk] == 1
    team_settings_set(actor=mona, team=team, awaiting_reply_days=7)
    assert {row.user.pk: row.awaiting_reply for row in team_dashboard(user=mona).people}[bob.pk] == 0
