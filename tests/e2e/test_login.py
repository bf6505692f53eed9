"""Each demo account signs in through the real form and sees the navigation of its role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from socialcrm.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo

pytestmark = pytest.mark.e2e

# Which main-navigation links each demo account must (True) or must not (False) see.
EXPECTED_NAV = {
    "sales": {"Home": True, "Invitations": False, "Admin": False},
    "manager": {"Home": True, "Invitations": True, "Admin": False},
    "dpo": {"Home": True, "Invitations": False, "Admin": False},
    "admin": {"Home": True, "Invitations": True, "Admin": True},
}


@pytest.fixture
def demo(page: Page) -> None:
    load_demo(say=lambda message: None)


def test_every_demo_account_is_covered() -> None:
    assert EXPECTED_NAV.keys() == DEMO_ACCOUNTS.keys()


@pytest.mark.parametrize("account", sorted(EXPECTED_NAV))
def test_demo_account_signs_in_and_sees_its_navigation(
    page: Page, demo: None, login: Callable[[Page, str, str], None], live_server: LiveServer, account: str
) -> None:
    login(page, DEMO_ACCOUNTS[account][0], DEMO_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    nav = page.get_by_role("navigation", name="Main")
    for label, visible in EXPECTED_NAV[account].items():
        link = nav.get_by_role("link", name=label, exact=True)
        expect(link).to_have_count(1 if visible else 0)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_wrong_password_shows_an_error_and_stays_signed_out(
    page: Page, demo: None, login: Callable[[Page, str, str], None]
) -> None:
    email = DEMO_ACCOUNTS["sales"][0]
    login(page, email, "not-the-password")

    expect(page.get_by_text("The email address and/or password you specified are not correct.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.get_by_label("Email")).to_have_value(email)
