"""Quick log: log by hand, edit and delete own entries within the window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from contacts.models import Activity
from contacts.services.timeline import EDIT_WINDOW, MANUAL_SOURCE
from tests.factories import ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(team: Any, alice: Any) -> Any:
    return ContactFactory(team=team, owner=alice)


def _log_url(contact: Any) -> str:
    return reverse("contacts:quick_log", kwargs={"pk": contact.pk})


def _valid(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "call",
        "occurred_at": "2025-02-03T14:30",
        "direction": "out",
        "subject": "Intro call",
        "body": "Talked about the pilot.",
        **overrides,
    }


@time_machine.travel(datetime(2025, 2, 3, 20, 0, tzinfo=UTC), tick=False)
def test_logging_a_call_records_it_in_the_users_time_zone_and_shows_it(contact: Any, alice: Any, client_for: Any):
    alice.time_zone = "Europe/Paris"
    alice.save()
    client = client_for(alice)

    response = client.post(_log_url(contact), _valid())

    assert response.status_code == 302
    assert response["Location"].endswith(reverse("contacts:detail", kwargs={"pk": contact.pk}) + "#timeline")
    activity = Activity.objects.get(contact=contact)
    assert (activity.kind, activity.direction, activity.actor, activity.source) == ("call", "out", alice, MANUAL_SOURCE)
    # 14:30 in Paris (UTC+1 in February).
    assert activity.occurred_at == datetime(2025, 2, 3, 13, 30, tzinfo=UTC)
    contact.refresh_from_db()
    assert contact.last_contacted_at == activity.occurred_at
    assert contact.last_outbound_at == activity.occurred_at
    assert "Intro call" in client.get(response["Location"]).content.decode()


@time_machine.travel(datetime(2025, 2, 3, 20, 7, 33, tzinfo=UTC), tick=False)
def test_the_form_defaults_to_now_in_the_users_time_zone(contact: Any, alice: Any, client_for: Any):
    alice.time_zone = "Asia/Tokyo"
    alice.save()
    html = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": contact.pk})).content.decode()
    assert 'type="datetime-local" name="occurred_at" value="2025-02-04T05:07"' in html


def test_htmx_log_returns_a_fresh_form_and_tells_the_timeline_to_reload(contact: Any, alice: Any, client_for: Any):
    response = client_for(alice).post(_log_url(contact), _valid(kind="note", direction="in"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"timeline-changed": {}}
    html = response.content.decode()
    assert html.lstrip().startswith("<form")
    assert "Intro call" not in html
    note = Activity.objects.get(contact=contact)
    # Notes have no direction, whatever the form sent.
    assert (note.kind, note.direction) == ("note", "")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (_valid(subject="", body=""), "body", "Write a subject or a few words about it."),
        (_valid(kind="fax"), "kind", "Select a valid choice."),
        (_valid(occurred_at="yesterday-ish"), "occurred_at", "Enter a valid date/time."),
        (_valid(occurred_at="2999-01-01T10:00"), "occurred_at", "use a reminder for what is planned"),
    ],
)
def test_invalid_entries_are_refused_with_the_error_inline(
    data: dict[str, Any], field: str, message: str, contact: Any, alice: Any, client_for: Any
):
    client = client_for(alice)

    with_htmx = client.post(_log_url(contact), data, HTTP_HX_REQUEST="true")
    without_js = client.post(_log_url(contact), data)

    assert not Activity.objects.exists()
    assert with_htmx.status_code == 200
    assert message in with_htmx.content.decode()
    assert "HX-Trigger" not in with_htmx
    assert without_js.status_code == 200
    page = without_js.content.decode()
    assert message in page
    assert 'id="timeline"' in page  # the whole contact page, with the form's errors


def test_charlie_cannot_log_on_another_teams_contact(contact: Any, charlie: Any, client_for: Any):
    assert client_for(charlie).post(_log_url(contact), _valid()).status_code == 404
    assert not Activity.objects.exists()


def test_the_dpo_cannot_log(contact: Any, dpo: Any, client_for: Any):
    assert client_for(dpo).post(_log_url(contact), _valid()).status_code == 403


# --- Edit and delete -----------------------------------------------------------------------


@pytest.fixture
def alices_call(contact: Any, alice: Any) -> Activity:
    return ActivityFactory(
        contact=contact, actor=alice, kind=Activity.Kind.CALL, direction="out", subject="Original", source=MANUAL_SOURCE
    )


def _edit_url(activity: Activity) -> str:
    return reverse("contacts:activity_edit", kwargs={"pk": activity.pk})


def _delete_url(activity: Activity) -> str:
    return reverse("contacts:activity_delete", kwargs={"pk": activity.pk})


def test_author_edits_her_entry_within_the_window(alices_call: Activity, alice: Any, client_for: Any):
    client = client_for(alice)
    assert "Original" in client.get(_edit_url(alices_call)).content.decode()

    response = client.post(
        _edit_url(alices_call), {"occurred_at": "2024-12-01T09:15", "direction": "in", "subject": "Fixed", "body": ""}
    )

    assert response.status_code == 302
    alices_call.refresh_from_db()
    assert (alices_call.subject, alices_call.direction, alices_call.kind) == ("Fixed", "in", "call")
    assert alices_call.occurred_at == datetime(2024, 12, 1, 9, 15, tzinfo=UTC)
    alices_call.contact.refresh_from_db()
    assert alices_call.contact.last_contacted_at == alices_call.occurred_at
    assert alices_call.contact.last_inbound_at == alices_call.occurred_at
    assert alices_call.contact.last_outbound_at is None


def test_htmx_edit_returns_the_form_then_reloads_the_timeline(alices_call: Activity, alice: Any, client_for: Any):
    client = client_for(alice)
    form = client.get(_edit_url(alices_call), HTTP_HX_REQUEST="true").content.decode()
    assert form.lstrip().startswith("<form") and "Original" in form

    response = client.post(
        _edit_url(alices_call),
        {"occurred_at": "2024-12-01T09:15", "direction": "out", "subject": "Better", "body": ""},
        HTTP_HX_REQUEST="true",
    )

    assert json.loads(response["HX-Trigger"]) == {"timeline-changed": {}}
    alices_call.refresh_from_db()
    assert alices_call.subject == "Better"


def test_the_author_sees_edit_and_delete_only_on_her_recent_manual_entries(
    alices_call: Activity, contact: Any, alice: Any, bob: Any, client_for: Any
):
    imported = ActivityFactory(contact=contact, actor=alice, kind=Activity.Kind.EMAIL, source="email")
    page_url = reverse("contacts:detail", kwargs={"pk": contact.pk})

    alices_view = client_for(alice).get(page_url).content.decode()
    bobs_view = client_for(bob).get(page_url).content.decode()

    assert _edit_url(alices_call) in alices_view
    assert _edit_url(imported) not in alices_view
    assert _edit_url(alices_call) not in bobs_view
    # The delete form carries the CSRF token (a form posted without it would be refused).
    delete_form = alices_view.split(f'action="{_delete_url(alices_call)}"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrfmiddlewaretoken"' in delete_form


def test_author_deletes_her_entry_and_last_contacted_is_recomputed(
    alices_call: Activity, contact: Any, alice: Any, client_for: Any
):
    older = ActivityFactory(contact=contact, kind=Activity.Kind.MEETING, occurred_at=timezone.now() - timedelta(days=3))
    contact.last_contacted_at = alices_call.occurred_at
    contact.save()

    response = client_for(alice).post(_delete_url(alices_call), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.content == b""
    assert not Activity.objects.filter(pk=alices_call.pk).exists()
    contact.refresh_from_db()
    assert contact.last_contacted_at == older.occurred_at


def test_delete_without_javascript_redirects_to_the_timeline(alices_call: Activity, alice: Any, client_for: Any):
    response = client_for(alice).post(_delete_url(alices_call))
    assert response.status_code == 302
    assert not Activity.objects.filter(pk=alices_call.pk).exists()


def test_bob_cannot_edit_or_delete_alices_entry(alices_call: Activity, bob: Any, client_for: Any):
    client = client_for(bob)
    assert client.get(_edit_url(alices_call)).status_code == 403
    assert (
        client.post(_edit_url(alices_call), {"occurred_at": "2024-12-01T09:15", "subject": "Hacked"}).status_code == 403
    )
    assert client.post(_delete_url(alices_call)).status_code == 403
    alices_call.refresh_from_db()
    assert alices_call.subject == "Original"


def test_nobody_can_edit_or_delete_after_the_window(alices_call: Activity, alice: Any, client_for: Any):
    client = client_for(alice)
    with time_machine.travel(alices_call.created_at + EDIT_WINDOW + timedelta(seconds=1)):
        assert client.get(_edit_url(alices_call)).status_code == 403
        assert client.post(_delete_url(alices_call)).status_code == 403
    assert Activity.objects.filter(pk=alices_call.pk).exists()


def test_entries_not_logged_by_hand_cannot_be_edited(contact: Any, alice: Any, client_for: Any):
    email = ActivityFactory(contact=contact, actor=alice, kind=Activity.Kind.EMAIL, source="email")
    assert client_for(alice).get(_edit_url(email)).status_code == 403


def test_charlie_gets_404_on_alices_entry(alices_call: Activity, charlie: Any, client_for: Any):
    client = client_for(charlie)
    assert client.get(_edit_url(alices_call)).status_code == 404
    assert client.post(_delete_url(alices_call)).status_code == 404
