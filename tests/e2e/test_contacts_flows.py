"""Key flows of the contact list and the contact page in a real browser: htmx updates
without a reload, history, the quick log, "load more" and the archive confirmation.

"No reload" is proven with a marker set on ``window`` before acting: a full page load
would start a new ``window`` without it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from contacts.models import Activity, Contact
from socialcrm.models import Team, User
from tests.factories import TEST_PASSWORD, ActivityFactory, ContactFactory

pytestmark = pytest.mark.e2e

Login = Callable[[Page, str, str], None]


def _set_marker(page: Page) -> None:
    page.evaluate("window.e2eMarker = 'same page'")


def _assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.e2eMarker") == "same page", "the page was reloaded"


def test_contact_list_search_and_filter_update_results_in_place_and_back_restores_them(
    page: Page, login: Login, alice: User, team: Team, live_server: LiveServer
) -> None:
    ContactFactory(team=team, first_name="Grace", last_name="Hopper", title="Admiral")
    ContactFactory(team=team, first_name="Ada", last_name="Lovelace", title="Analyst")
    ContactFactory(team=team, first_name="Grace", last_name="Kelly", title="Actress", archived=True)
    login(page, alice.email, TEST_PASSWORD)
    page.goto("/contacts/")
    table = page.get_by_role("table", name="Contacts")
    expect(table.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    _set_marker(page)

    page.get_by_role("searchbox", name="Search").fill("Grace")

    expect(page).to_have_url(re.compile(r"/contacts/\?.*q=Grace"))
    expect(page.get_by_text("1 contact matches these filters")).to_be_visible()
    expect(table.get_by_role("link", name="Grace Hopper")).to_be_visible()
    expect(table.get_by_role("link", name="Ada Lovelace")).to_have_count(0)

    page.get_by_label("Show").select_option(label="Archived")

    expect(page).to_have_url(re.compile(r"status=archived"))
    expect(table.get_by_role("link", name="Grace Kelly")).to_be_visible()
    expect(table.get_by_role("link", name="Grace Hopper")).to_have_count(0)
    _assert_not_reloaded(page)

    page.go_back()

    expect(page).to_have_url(re.compile(r"q=Grace.*status=active"))
    expect(table.get_by_role("link", name="Grace Hopper")).to_be_visible()
    expect(table.get_by_role("link", name="Grace Kelly")).to_have_count(0)
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("Grace")
    expect(page.get_by_label("Show")).to_have_value("active")
    _assert_not_reloaded(page)

    page.go_back()

    expect(page).to_have_url(f"{live_server.url}/contacts/")
    expect(table.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("")


def test_quick_log_adds_the_call_on_top_of_the_timeline_and_shows_errors_inline(
    page: Page, login: Login, alice: User, team: Team
) -> None:
    contact = ContactFactory(team=team, first_name="Ada", last_name="Lovelace")
    ActivityFactory(contact=contact, subject="An older note", occurred_at=timezone.now() - timedelta(days=2))
    login(page, alice.email, TEST_PASSWORD)
    page.goto(f"/contacts/{contact.pk}/")
    quick_log = page.get_by_role("region", name="Log a call, meeting, note or email")
    entries = page.locator("#timeline .timeline-entry")
    expect(entries).to_have_count(1)
    _set_marker(page)

    quick_log.get_by_role("button", name="Log it").click()

    expect(quick_log.get_by_role("alert")).to_have_text("Write a subject or a few words about it.")
    expect(entries).to_have_count(1)

    quick_log.get_by_label("Kind").select_option(label="Call")
    quick_log.get_by_label("Direction").select_option(label="Outbound: we reached out")
    quick_log.get_by_label("Subject").fill("Renewal call")
    quick_log.get_by_label("Notes").fill("She wants the annual plan.")
    quick_log.get_by_role("button", name="Log it").click()

    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("Call")
    expect(entries.first).to_contain_text("Renewal call")
    expect(entries.first).to_contain_text("She wants the annual plan.")
    expect(entries.nth(1)).to_contain_text("An older note")
    # The form came back empty and without the earlier error.
    expect(quick_log.get_by_label("Subject")).to_have_value("")
    expect(quick_log.get_by_role("alert")).to_have_count(0)
    _assert_not_reloaded(page)
    call = Activity.objects.get(contact=contact, kind=Activity.Kind.CALL)
    assert (call.subject, call.direction, call.actor) == ("Renewal call", "out", alice)


def test_load_more_appends_the_older_entries_once(page: Page, login: Login, alice: User, team: Team) -> None:
    contact = ContactFactory(team=team, first_name="Ada", last_name="Lovelace")
    now = timezone.now()
    for number in range(32):
        ActivityFactory(contact=contact, subject=f"Entry {number:02}", occurred_at=now - timedelta(hours=number + 1))
    login(page, alice.email, TEST_PASSWORD)
    page.goto(f"/contacts/{contact.pk}/")
    subjects = page.locator("#timeline .timeline-subject")
    expect(subjects).to_have_count(25)
    _set_marker(page)

    page.get_by_role("link", name="Load older entries").click()

    expect(subjects).to_have_count(32)
    assert subjects.all_inner_texts() == [f"Entry {number:02}" for number in range(32)]
    ids = page.locator("#timeline .timeline-entry").evaluate_all("entries => entries.map(entry => entry.id)")
    assert len(set(ids)) == 32
    expect(page.get_by_role("link", name="Load older entries")).to_have_count(0)
    _assert_not_reloaded(page)


def test_archiving_a_contact_asks_for_confirmation_first(page: Page, login: Login, alice: User, team: Team) -> None:
    contact = ContactFactory(team=team, first_name="Ada", last_name="Lovelace")
    login(page, alice.email, TEST_PASSWORD)
    page.goto(f"/contacts/{contact.pk}/edit/")

    page.get_by_role("link", name="Archive…").click()

    expect(page.get_by_role("heading", name="Archive Ada Lovelace?")).to_be_visible()
    contact.refresh_from_db()
    assert not contact.archived

    page.get_by_role("button", name="Archive this contact").click()

    expect(page.get_by_role("heading", name="Ada Lovelace")).to_contain_text("Archived")
    expect(page.get_by_role("status")).to_contain_text("Ada Lovelace was archived.")
    assert Contact.objects.get(pk=contact.pk).archived
