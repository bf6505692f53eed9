"""Hostile public-profile data renders inert in a real browser (the contact page's enrichment panel)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Page, expect

from enrichment.models import SocialProfile
from socialcrm.models import Team, User
from tests.factories import TEST_PASSWORD, ContactFactory

pytestmark = pytest.mark.e2e

SCRIPT = '<script>window.pwned = 1; alert("bio")</script>'


def test_hostile_profile_data_is_shown_as_text_and_runs_nothing(
    page: Page, login: Callable[[Page, str, str], None], alice: User, team: Team
) -> None:
    contact = ContactFactory(team=team, first_name="Ada", last_name="Example")
    SocialProfile.objects.create(
        contact=contact,
        network="github",
        provider="github",
        url="https://github.com/ada",
        display_name='<img src=x onerror="alert(1)">',
        bio=SCRIPT,
        title='"><svg onload=alert(2)>',
        links=["javascript:alert(3)", "https://ada.example/"],
        source_url="https://api.github.com/users/ada",
    )
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    login(page, alice.email, TEST_PASSWORD)
    page.goto(f"/contacts/{contact.pk}/")

    panel = page.locator("[data-panel=social_profiles]")
    expect(panel.get_by_text(SCRIPT)).to_be_visible()
    # The name is both the profile link's text and the heading of its fields.
    expect(panel.get_by_text('<img src=x onerror="alert(1)">').first).to_be_visible()
    expect(panel.get_by_text('"><svg onload=alert(2)>')).to_be_visible()
    expect(panel.locator("script, img, svg")).to_have_count(0)
    expect(panel.locator('a[href^="javascript:"]')).to_have_count(0)
    expect(panel.get_by_role("link", name="https://ada.example/")).to_be_visible()
    assert page.evaluate("window.pwned === undefined")
    assert dialogs == []
