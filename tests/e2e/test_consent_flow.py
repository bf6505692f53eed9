"""The contact page's consent panel in a real browser: record a grant, then a withdrawal, with evidence."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from consent.models import ConsentEvent
from socialcrm.models import Team, User
from tests.factories import TEST_PASSWORD, ContactFactory

pytestmark = pytest.mark.e2e

# A purpose whose lawful basis is consent: not allowed until the person grants it.
PURPOSE = "Marketing email"


def _record(panel: Locator, *, action: str, source: str, evidence: str) -> None:
    panel.get_by_text("Record consent, withdrawal or objection").click()
    panel.get_by_label("Purpose").select_option(label=PURPOSE)
    panel.get_by_role("radio", name=action).check()
    panel.get_by_label("How the person told us").select_option(label=source)
    panel.get_by_label("Evidence").fill(evidence)
    panel.get_by_role("button", name="Record").click()


def test_granting_then_withdrawing_consent_changes_the_state_shown(
    page: Page, login: Callable[[Page, str, str], None], alice: User, team: Team
) -> None:
    contact = ContactFactory(team=team, first_name="Ada", last_name="Lovelace")
    login(page, alice.email, TEST_PASSWORD)
    page.goto(f"/contacts/{contact.pk}/")
    panel = page.locator("[data-panel=consent]")
    row = panel.get_by_role("row").filter(has=page.get_by_role("rowheader", name=PURPOSE))
    expect(row).to_contain_text("Not allowed")
    expect(row).to_contain_text("The person has not given consent.")
    page.evaluate("window.e2eMarker = 'same page'")

    _record(panel, action="Consent given", source="Email", evidence="Her email of 3 May, in the timeline")

    expect(panel.get_by_role("status")).to_have_text(f"Recorded: {PURPOSE}, consent given.")
    expect(row).to_contain_text("Allowed")
    expect(row).not_to_contain_text("Not allowed")
    expect(row).to_contain_text("The person consented.")
    expect(row).to_contain_text("Email")

    _record(panel, action="Consent withdrawn", source="Phone call", evidence="Call of 9 May: no more newsletters")

    expect(panel.get_by_role("status")).to_have_text(f"Recorded: {PURPOSE}, consent withdrawn.")
    expect(row).to_contain_text("Not allowed")
    expect(row).to_contain_text("The person withdrew consent.")
    expect(row).to_contain_text("Phone call")
    assert page.evaluate("window.e2eMarker") == "same page", "the page was reloaded"
    events = ConsentEvent.objects.filter(contact=contact, purpose__name=PURPOSE).order_by("occurred_at", "id")
    assert [(event.action, event.source, event.evidence, event.recorded_by) for event in events] == [
        ("grant", "email", "Her email of 3 May, in the timeline", alice),
        ("withdraw", "phone", "Call of 9 May: no more newsletters", alice),
    ]


def test_recording_without_evidence_shows_the_error_in_the_panel(
    page: Page, login: Callable[[Page, str, str], None], alice: User, team: Team, browser_errors: list[str]
) -> None:
    contact = ContactFactory(team=team, first_name="Ada", last_name="Lovelace")
    login(page, alice.email, TEST_PASSWORD)
    page.goto(f"/contacts/{contact.pk}/")
    panel = page.locator("[data-panel=consent]")

    _record(panel, action="Consent given", source="Email", evidence="")

    expect(panel.get_by_role("alert")).to_have_text("This field is required.")
    # The answers given are kept for the correction.
    expect(panel.get_by_label("Purpose").locator("option:checked")).to_have_text(PURPOSE)
    assert not ConsentEvent.objects.filter(contact=contact).exists()
    # Chromium logs every 4xx answer on the console; this 422 is the invalid form's own answer.
    rejected = [error for error in browser_errors if "status of 422" in error and "/consent/record/" in error]
    assert len(rejected) == 1
    browser_errors.remove(rejected[0])
