"""The contact page's reminders panel in a real browser: add a reminder, then complete it, with htmx."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import Reminder
from socialcrm.models import Team, User
from tests.factories import TEST_PASSWORD, ContactFactory

pytestmark = pytest.mark.e2e

NOTE = "Send her the annual-plan quote"


def test_a_reminder_added_on_the_contact_page_leaves_the_open_list_when_done(
    page: Page, login: Callable[[Page, str, str], None], alice: User, team: Team
) -> None:
    contact = ContactFactory(team=team, first_name="Ada", last_name="Lovelace")
    # alice's time zone is UTC: the datetime-local value is read in it.
    due = (timezone.now() + timedelta(days=1)).replace(hour=9, minute=30, second=0, microsecond=0)
    login(page, alice.email, TEST_PASSWORD)
    page.goto(f"/contacts/{contact.pk}/")
    panel = page.locator("[data-panel=reminders]")
    expect(panel.get_by_text("No open reminders.")).to_be_visible()
    page.evaluate("window.e2eMarker = 'same page'")

    panel.get_by_text("Add a reminder").click()
    panel.get_by_label("Due").fill(due.strftime("%Y-%m-%dT%H:%M"))
    panel.get_by_label("Note").fill(NOTE)
    panel.get_by_role("button", name="Set reminder").click()

    open_reminder = panel.get_by_role("listitem").filter(has_text=NOTE)
    expect(open_reminder).to_be_visible()
    expect(open_reminder).to_contain_text(due.strftime("%a %-d %b, 09:30"))
    expect(panel.get_by_text("No open reminders.")).to_have_count(0)
    reminder = Reminder.objects.get(contact=contact)
    assert (reminder.status, reminder.assignee, reminder.due_at) == (Reminder.Status.OPEN, alice, due)

    open_reminder.get_by_role("button", name="Done").click()

    expect(panel.get_by_text("No open reminders.")).to_be_visible()
    expect(panel.get_by_text(NOTE)).to_have_count(0)
    expect(panel.get_by_role("heading", name="Recently closed")).to_be_visible()
    expect(panel.get_by_role("listitem").filter(has_text="Reminder · done")).to_have_count(1)
    assert page.evaluate("window.e2eMarker") == "same page", "the page was reloaded"
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.DONE
