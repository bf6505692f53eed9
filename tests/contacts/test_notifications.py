"""Notifications: each due reminder and daily digest is emailed exactly once, with links back."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from contacts import tasks
from contacts.models import Notification, NotificationPreference, Reminder
from contacts.services import notifications
from contacts.services.reminders import reminder_complete, reminder_snooze
from socialcrm.models import OutboxMessage
from tests.factories import ContactFactory, ReminderFactory

NOW = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def contact(team: Any, alice: Any) -> Any:
    return ContactFactory(team=team, owner=alice, display_name="Ada Lovelace")


def _tick(at: datetime = NOW) -> int:
    # The tick enqueues the sends through the outbox, published (and run, eagerly) on commit.
    with time_machine.travel(at, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        return tasks.reminders_due_tick()


@pytest.mark.django_db
def test_a_due_reminder_is_emailed_once_with_links_back(alice: Any, contact: Any, settings: Any) -> None:
    settings.SITE_URL = "https://crm.example"
    reminder = ReminderFactory(contact=contact, assignee=alice, due_at=NOW - timedelta(minutes=1), note="Send deck")
    assert _tick() == 1
    assert _tick() == 0
    assert _tick(NOW + timedelta(minutes=1)) == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [alice.email]
    assert message.subject == "[Social CRM] Reminder due: Ada Lovelace"
    assert "Send deck" in message.body
    assert f"https://crm.example{reverse('contacts:detail', kwargs={'pk': contact.pk})}" in message.body
    notification = Notification.objects.get()
    assert notification.key == f"due:{reminder.pk}:{reminder.due_at.isoformat()}"
    assert notification.sent_at is not None and notification.emailed


@pytest.mark.django_db
def test_the_tick_only_claims_and_enqueues_one_send_task_per_notification(alice: Any, contact: Any) -> None:
    for minutes in (1, 2, 3):
        ReminderFactory(contact=contact, assignee=alice, due_at=NOW - timedelta(minutes=minutes))
    with time_machine.travel(NOW, tick=False):
        assert tasks.reminders_due_tick() == 3  # no on-commit publish here: nothing runs the tasks
    assert mail.outbox == []
    ids = sorted(Notification.objects.values_list("pk", flat=True))
    queued = OutboxMessage.objects.filter(task_name="contacts.tasks.notification_send")
    assert sorted(args[0] for args in queued.values_list("args", flat=True)) == ids
    # A task delivered twice sends once.
    assert tasks.notification_send(ids[0]) is True
    assert tasks.notification_send(ids[0]) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_nothing_is_sent_before_the_due_time(alice: Any, contact: Any) -> None:
    ReminderFactory(contact=contact, assignee=alice, due_at=NOW + timedelta(minutes=5))
    assert _tick() == 0
    assert mail.outbox == [] and not Notification.objects.exists()


@pytest.mark.django_db
def test_the_due_email_is_in_the_assignees_time_zone(alice: Any, contact: Any) -> None:
    alice.time_zone = "America/New_York"
    alice.save(update_fields=["time_zone"])
    ReminderFactory(contact=contact, assignee=alice, due_at=datetime(2024, 6, 3, 11, 30, tzinfo=UTC))
    _tick()
    assert "Mon 3 Jun 2024, 07:30 EDT" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_snoozed_reminder_notifies_again_at_its_new_time(alice: Any, contact: Any) -> None:
    reminder = ReminderFactory(contact=contact, assignee=alice, due_at=NOW - timedelta(minutes=1))
    _tick()
    with time_machine.travel(NOW, tick=False):
        reminder_snooze(actor=alice, reminder=reminder, until=NOW + timedelta(hours=1))
    assert _tick(NOW + timedelta(minutes=30)) == 0
    _tick(NOW + timedelta(hours=1, minutes=1))
    assert len(mail.outbox) == 2
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_a_reminder_done_before_the_tick_is_not_emailed(alice: Any, contact: Any) -> None:
    reminder = ReminderFactory(contact=contact, assignee=alice, due_at=NOW - timedelta(minutes=1))
    with time_machine.travel(NOW, tick=False):
        notifications.due_notifications_make()
        reminder_complete(actor=alice, reminder=reminder)
        notifications.notification_send(notification_id=Notification.objects.get().pk)
    assert mail.outbox == []
    assert Notification.objects.get().sent_at is not None


@pytest.mark.django_db
def test_people_who_opted_out_get_no_due_email_but_still_an_in_app_notification(
    alice: Any, contact: Any, client_for: Any
) -> None:
    NotificationPreference.objects.create(user=alice, email_on_due=False)
    ReminderFactory(contact=contact, assignee=alice, due_at=NOW - timedelta(minutes=1))
    _tick()
    assert mail.outbox == []
    html = client_for(alice).get(reverse("contacts:notifications")).content.decode()
    assert "Ada Lovelace" in html and "notification-unread" in html


@pytest.mark.django_db
def test_a_crash_while_sending_leaves_the_notification_for_the_next_tick(
    alice: Any, contact: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ReminderFactory(contact=contact, assignee=alice, due_at=NOW - timedelta(minutes=1))

    def down(*args: Any, **kwargs: Any) -> None:
        raise OSError("mail server down")

    monkeypatch.setattr(notifications, "send_mail", down)
    with pytest.raises(OSError):
        _tick()
    assert Notification.objects.get().sent_at is None
    monkeypatch.undo()
    assert _tick(NOW + timedelta(minutes=1)) == 0  # not yet: its task may still be running
    assert _tick(NOW + notifications.RESEND_AFTER + timedelta(minutes=1)) == 1
    assert len(mail.outbox) == 1
    assert _tick(NOW + notifications.RESEND_AFTER + timedelta(minutes=2)) == 0
    assert len(mail.outbox) == 1


# --- digests -------------------------------------------------------------------------------------


def _digest_tick(at: datetime) -> int:
    with time_machine.travel(at, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        return tasks.reminders_digest_tick()


@pytest.mark.django_db
def test_each_user_gets_their_digest_at_their_hour_in_their_time_zone(
    alice: Any, bob: Any, team: Any, contact: Any
) -> None:
    alice.time_zone = "Europe/Paris"  # 08:00 there is 06:00 UTC in June
    alice.save(update_fields=["time_zone"])
    bob.time_zone = "America/New_York"
    bob.save(update_fields=["time_zone"])
    NotificationPreference.objects.create(user=bob, digest_hour=7)  # 11:00 UTC
    day = datetime(2024, 6, 3, tzinfo=UTC)
    ReminderFactory(contact=contact, assignee=alice, due_at=day + timedelta(hours=14), notify_at=None)
    ReminderFactory(contact=contact, assignee=bob, due_at=day + timedelta(hours=15), notify_at=None)
    assert _digest_tick(day + timedelta(hours=5, minutes=59)) == 0
    assert _digest_tick(day + timedelta(hours=6)) == 1
    assert [message.to for message in mail.outbox] == [[alice.email]]
    assert _digest_tick(day + timedelta(hours=10)) == 0
    assert _digest_tick(day + timedelta(hours=11, minutes=1)) == 1
    assert [message.to for message in mail.outbox] == [[alice.email], [bob.email]]
    # Once a day each, however many ticks follow.
    for minutes in range(0, 600, 60):
        _digest_tick(day + timedelta(hours=12, minutes=minutes))
    assert len(mail.outbox) == 2
    assert sorted(Notification.objects.values_list("key", flat=True)) == [
        f"digest:{alice.pk}:2024-06-03",
        f"digest:{bob.pk}:2024-06-03",
    ]


@pytest.mark.django_db
def test_a_digest_is_not_sent_late_in_the_day(alice: Any, contact: Any) -> None:
    # Digest hour 08:00 UTC: from 08:00 to 10:00 (catch-up), not in the afternoon.
    day = datetime(2024, 6, 3, tzinfo=UTC)
    ReminderFactory(contact=contact, assignee=alice, due_at=day + timedelta(hours=20), notify_at=None)
    assert _digest_tick(day + timedelta(hours=15)) == 0
    assert _digest_tick(day + timedelta(hours=7, minutes=59)) == 0
    assert _digest_tick(day + timedelta(hours=10)) == 0
    assert _digest_tick(day + timedelta(hours=9, minutes=59)) == 1  # catching up after an outage
    assert _digest_tick(day + timedelta(hours=9, minutes=59, seconds=30)) == 0


@pytest.mark.django_db
def test_a_late_evening_digest_caught_up_after_midnight_is_still_that_days(alice: Any, contact: Any) -> None:
    NotificationPreference.objects.create(user=alice, digest_hour=23)
    day = datetime(2024, 6, 3, tzinfo=UTC)
    ReminderFactory(contact=contact, assignee=alice, due_at=day + timedelta(hours=20), notify_at=None)
    assert _digest_tick(day + timedelta(hours=22, minutes=59)) == 0
    assert _digest_tick(day + timedelta(days=1, minutes=30)) == 1
    assert Notification.objects.get().key == f"digest:{alice.pk}:2024-06-03"
    assert _digest_tick(day + timedelta(days=1, hours=23)) == 1  # the next day's
    assert _digest_tick(day + timedelta(days=1, hours=23, minutes=5)) == 0


@pytest.mark.django_db
def test_the_digest_lists_overdue_and_today_only_the_users_own(alice: Any, bob: Any, team: Any, settings: Any) -> None:
    settings.SITE_URL = "https://crm.example"
    at = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
    overdue = ContactFactory(team=team, display_name="Olive Overdue")
    later = ContactFactory(team=team, display_name="Tara Today")
    tomorrow = ContactFactory(team=team, display_name="Tom Tomorrow")
    closed = ContactFactory(team=team, display_name="Dora Done")
    ReminderFactory(contact=overdue, assignee=alice, due_at=at - timedelta(days=2), notify_at=None)
    ReminderFactory(contact=later, assignee=alice, due_at=at + timedelta(hours=5), notify_at=None)
    ReminderFactory(contact=tomorrow, assignee=alice, due_at=at + timedelta(days=1), notify_at=None)
    ReminderFactory(contact=closed, assignee=alice, due_at=at - timedelta(hours=1), status="done", notify_at=None)
    ReminderFactory(contact=ContactFactory(team=team, display_name="Bobs Own"), assignee=bob, notify_at=None)
    _digest_tick(at)
    body = next(message.body for message in mail.outbox if message.to == [alice.email])
    overdue_part, today_part = body.split("Later today")
    assert "Olive Overdue" in overdue_part and "Tara Today" in today_part
    assert "Tom Tomorrow" not in body and "Dora Done" not in body and "Bobs Own" not in body
    assert f"https://crm.example{reverse('contacts:detail', kwargs={'pk': overdue.pk})}" in body
    assert next(message.subject for message in mail.outbox if message.to == [alice.email]).endswith(
        "1 overdue, 1 due later today"
    )


@pytest.mark.django_db
def test_no_digest_for_people_with_nothing_due_or_who_turned_it_off(alice: Any, bob: Any, contact: Any) -> None:
    NotificationPreference.objects.create(user=bob, digest_enabled=False)
    ReminderFactory(contact=contact, assignee=bob, due_at=NOW, notify_at=None)
    ReminderFactory(contact=contact, assignee=alice, due_at=NOW + timedelta(days=5), notify_at=None)
    _digest_tick(NOW)
    assert mail.outbox == []


# --- the bell ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_bell_counts_due_and_overdue_reminders(alice: Any, bob: Any, contact: Any, client_for: Any) -> None:
    now = timezone.now()
    ReminderFactory(contact=contact, assignee=alice, due_at=now - timedelta(days=2))
    ReminderFactory(contact=contact, assignee=alice, due_at=now - timedelta(minutes=1), status="snoozed")
    ReminderFactory(contact=contact, assignee=alice, due_at=now + timedelta(days=1))
    ReminderFactory(contact=contact, assignee=alice, due_at=now - timedelta(days=1), status="done")
    ReminderFactory(contact=contact, assignee=bob, due_at=now - timedelta(days=1))
    html = client_for(alice).get(reverse("contacts:list")).content.decode()
    assert '<span class="bell-count">2</span>' in html


@pytest.mark.django_db
def test_no_bell_for_the_dpo(dpo: Any, client_for: Any) -> None:
    assert "bell-count" not in client_for(dpo).get(reverse("contacts:list")).content.decode()


@pytest.mark.django_db
def test_notification_preferences_are_saved(alice: Any, client_for: Any) -> None:
    client_for(alice).post(reverse("contacts:notification_preferences"), {"digest_hour": "6"})
    preference = NotificationPreference.objects.get(user=alice)
    assert (preference.digest_hour, preference.digest_enabled, preference.email_on_due) == (6, False, False)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 15])
def test_the_notifications_page_runs_a_constant_number_of_queries(
    size: int, alice: Any, team: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(size):
        person = ContactFactory(team=team, owner=alice, display_name=f"Person {index}")
        reminder = ReminderFactory(contact=person, assignee=alice, due_at=NOW)
        Notification.objects.create(user=alice, kind="due", key=f"due:{reminder.pk}", reminder=reminder)
        Notification.objects.create(user=alice, kind="digest", key=f"digest:{index}", summary="1 overdue")
    client = client_for(alice)
    # 1 user, 2 roles, 3 preferences, 4 visible teams, 5 managed teams (visible_reminders), 6 the
    # notifications with their reminders and contacts, 7 the contacts' privacy rules, 8 the bell.
    with django_assert_max_num_queries(8):
        html = client.get(reverse("contacts:notifications")).content.decode()
    assert html.count("Person ") == size and html.count("Daily digest: 1 overdue") == size


# --- someone who left the team -------------------------------------------------------------------


def _leave(user: Any, team: Any) -> None:
    team.members.remove(user)
    user._own_teams = None


@pytest.mark.django_db
def test_after_leaving_the_team_the_notifications_page_names_none_of_its_contacts(
    alice: Any, team: Any, contact: Any, client_for: Any
) -> None:
    ReminderFactory(contact=contact, assignee=alice, due_at=NOW - timedelta(minutes=1))
    _tick()
    assert "Ada Lovelace" in client_for(alice).get(reverse("contacts:notifications")).content.decode()
    _leave(alice, team)
    html = client_for(alice).get(reverse("contacts:notifications")).content.decode()
    assert "Ada Lovelace" not in html and "notification-unread" not in html


@pytest.mark.django_db
def test_after_leaving_the_team_no_due_email_digest_or_bell_for_its_contacts(
    alice: Any, team: Any, contact: Any, client_for: Any
) -> None:
    ReminderFactory(contact=contact, assignee=alice, due_at=NOW - timedelta(minutes=1))
    with time_machine.travel(NOW, tick=False):
        notifications.due_notifications_make()
        notifications.digests_make(now=NOW.replace(hour=8))
    assert Notification.objects.count() == 2  # made while she was in the team, sent after she left
    _leave(alice, team)
    _tick()
    assert mail.outbox == []
    assert not Notification.objects.filter(emailed=True).exists()
    with time_machine.travel(NOW, tick=False):
        html = client_for(alice).get(reverse("contacts:reminders")).content.decode()
    assert '<span class="bell-count">0</span>' in html


# --- concurrency (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks with SKIP LOCKED need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_same_tick_at_once_send_each_notification_once(team: Any, alice: Any) -> None:
    contacts = [ContactFactory(team=team, owner=alice) for _ in range(20)]
    for contact in contacts:
        ReminderFactory(contact=contact, assignee=alice, due_at=NOW - timedelta(minutes=1))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            with time_machine.travel(NOW, tick=False):
                tasks.reminders_due_tick()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(mail.outbox) == 20
    assert len({message.body for message in mail.outbox}) == 20
    assert Notification.objects.filter(sent_at__isnull=False).count() == 20
    assert not Reminder.objects.filter(notify_at__isnull=False).exists()
