"""Keyboard only: the skip link comes first and lands in main; a contact is found and opened with Tab and Enter."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from socialcrm.models import Team, User
from tests.factories import TEST_PASSWORD, ContactFactory

pytestmark = pytest.mark.e2e

# More Tab presses than the list page has stops before its first row (filters, exports, sort links).
MAX_TABS = 80


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.textContent.trim() || document.activeElement.name || ''"))


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page: Page) -> None:
    page.goto("/accounts/login/")

    page.keyboard.press("Tab")

    skip_link = page.get_by_role("link", name="Skip to content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()  # shown while focused, off-screen otherwise

    page.keyboard.press("Enter")

    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")
    # The next stop is the sign-in form's first field, not the header's links.
    expect(page.get_by_label("Email")).to_be_focused()


def test_a_contact_is_found_and_opened_from_the_list_with_tab_and_enter(
    page: Page, login: Callable[[Page, str, str], None], alice: User, team: Team, live_server: LiveServer
) -> None:
    ContactFactory(team=team, first_name="Ada", last_name="Lovelace")
    grace = ContactFactory(team=team, first_name="Grace", last_name="Hopper")
    login(page, alice.email, TEST_PASSWORD)
    page.goto("/contacts/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link: straight to the filters and results

    visited = []
    while _focused(page) != "Grace Hopper" and len(visited) < MAX_TABS:
        page.keyboard.press("Tab")
        visited.append(_focused(page))
    assert visited[-1] == "Grace Hopper", f"Tab never reached the contact; it went through {visited}"
    assert "Ada Lovelace" in visited, "the rows are not reached in their order"
    assert page.evaluate("document.activeElement.matches(':focus-visible')"), "the focused link shows no focus"

    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"{re.escape(live_server.url)}/contacts/{grace.pk}/$"))
    expect(page.get_by_role("heading", name="Grace Hopper", level=1)).to_be_visible()
