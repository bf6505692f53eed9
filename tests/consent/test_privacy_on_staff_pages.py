"""The name the person chose, and the attributes they withhold, on staff pages beyond the
contact page and list: the email thread, the activity edit page, the reminder form."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import PrivacyPreference
from contacts.models import Activity
from tests.factories import ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db

PSEUDONYM = "R. the Rocketeer"
LEGAL_NAME = "Rosa Parkes"
EMAIL = "rosa@acme.example"


@pytest.fixture
def private(team: Any, alice: Any) -> Any:
    """Rosa, who goes by a pseudonym and withholds her email."""
    contact = ContactFactory(team=team, owner=alice, display_name=LEGAL_NAME, email=EMAIL)
    PrivacyPreference.objects.create(
        contact=contact, identify_by="pseudonym", pseudonym=PSEUDONYM, withheld_attributes=["email"]
    )
    return contact


def _assert_private(html: str) -> None:
    assert PSEUDONYM in html
    assert LEGAL_NAME not in html
    assert EMAIL not in html.lower()


def _email(contact: Any, alice: Any, direction: str, sender: dict[str, str], to: dict[str, str]) -> Activity:
    return ActivityFactory(
        contact=contact,
        actor=alice,
        kind=Activity.Kind.EMAIL,
        direction=direction,
        subject="Pricing",
        body="Thanks.",
        thread_key="thread-1",
        occurred_at=timezone.now(),
        payload={"from": sender, "to": [to], "cc": [{"name": "Ada Team", "email": "ada@ourco.example"}]},
    )


def test_the_email_thread_shows_the_chosen_name_and_not_the_withheld_address(
    private: Any, alice: Any, client_for: Any
) -> None:
    rosa = {"name": LEGAL_NAME, "email": "Rosa@Acme.example"}
    us = {"name": "Alice Sales", "email": "alice@ourco.example"}
    _email(private, alice, "in", rosa, us)
    reply = _email(private, alice, "out", us, rosa)
    response = client_for(alice).get(reverse("contacts:thread", args=[reply.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    _assert_private(html)
    # Other people's addresses are not the person's to withhold.
    assert "alice@ourco.example" in html and "Ada Team" in html


def test_the_email_thread_is_unchanged_for_a_contact_without_preferences(
    team: Any, alice: Any, client_for: Any
) -> None:
    contact = ContactFactory(team=team, owner=alice, display_name="Open Book", email="book@open.example")
    book = {"name": "Open Book", "email": "book@open.example"}
    entry = _email(contact, alice, "in", book, {"email": "a@ourco.example"})
    html = client_for(alice).get(reverse("contacts:thread", args=[entry.pk])).content.decode()
    assert "Open Book" in html and "book@open.example" in html


def test_the_activity_edit_page_shows_the_chosen_name(private: Any, alice: Any, client_for: Any) -> None:
    activity = ActivityFactory(contact=private, actor=alice, kind=Activity.Kind.CALL, subject="Call")
    response = client_for(alice).get(reverse("contacts:activity_edit", kwargs={"pk": activity.pk}))
    assert response.status_code == 200
    _assert_private(response.content.decode())


def test_the_reminder_form_page_shows_the_chosen_name(private: Any, alice: Any, client_for: Any) -> None:
    # An invalid reminder without JavaScript re-renders the form as a page of its own.
    response = client_for(alice).post(reverse("contacts:reminder_create", kwargs={"pk": private.pk}), {"due_at": ""})
    assert response.status_code == 400
    _assert_private(response.content.decode())
