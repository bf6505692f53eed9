"""Cancelling a running import in the browser: the disclosure stays open while htmx polls, keyboard only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import ImportJob
from contacts.services.imports import import_preview
from socialcrm.models import Team, User
from tests.contacts.importing import fixture_bytes
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.e2e


def test_a_running_import_is_cancelled_from_its_page_with_the_keyboard(
    page: Page, login: Callable[[Page, str, str], None], alice: User, team: Team
) -> None:
    job = import_preview(actor=alice, team=team, file_name="l.csv", data=fixture_bytes("linkedin_connections.csv"))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, processed_rows=2)
    login(page, alice.email, TEST_PASSWORD)
    page.goto(f"/contacts/import/{job.pk}/")
    summary = page.get_by_text("Cancel this import…")
    summary.focus()
    expect(summary).to_be_focused()

    page.keyboard.press("Enter")

    confirm = page.get_by_role("button", name="Yes, cancel the import")
    expect(confirm).to_be_visible()
    # Two polls of the progress later, the disclosure is still open (hx-preserve).
    for _ in range(2):
        with page.expect_response(lambda response: "/progress/" in response.url):
            pass
    expect(confirm).to_be_visible()
    expect(page.get_by_text("2 of 7 rows")).to_be_visible()

    confirm.focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Cancelling…")).to_be_visible()
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.CANCELLED
    # The task stops before its next batch and ends the job; the page, still polling, shows the summary.
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now())
    expect(page.get_by_role("heading", name="Import cancelled")).to_be_visible()
    expect(page.get_by_text("Cancel this import…")).to_have_count(0)
