"""The contact search never finds a person by an attribute they withhold from staff: the list
does not show it, so a match on it would reveal it (consent's privacy preferences)."""

from __future__ import annotations

from typing import Any

import pytest

from consent.models import PrivacyPreference
from contacts import selectors
from contacts.search import search_is_ranked
from tests.factories import ContactFactory, ContactMethodFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _search(user: Any, term: str) -> list[str]:
    contacts = selectors.contact_list(user=user, filters={"q": term})
    sort = selectors.contact_list_sort(None, searching=search_is_ranked(term))
    return sorted(c.display_name for c in selectors.contact_list_page(contacts=contacts, sort=sort).rows)


@pytest.fixture
def people(team: Any) -> None:
    """Mia withholds her email, phone, title and organization; Ned shows everything."""
    orbital = OrganizationFactory(team=team, name="Orbital Works")
    mia = ContactFactory(
        team=team, display_name="Mia Stone", title="Astronaut", email="mia@orbital.example", organization=orbital
    )
    ContactMethodFactory(contact=mia, kind="phone", value="+44 20 7946 0958", normalized="+442079460958")
    PrivacyPreference.objects.create(
        contact=mia, withheld_attributes=["email", "phone", "title", "organization", "location"]
    )
    ned = ContactFactory(
        team=team, display_name="Ned Quill", title="Astronaut", email="ned@orbital.example", organization=orbital
    )
    ContactMethodFactory(contact=ned, kind="phone", value="+44 20 7946 0111", normalized="+442079460111")


@pytest.mark.parametrize(
    "term",
    [
        "mia@orbital.example",  # an address
        "orbital.example",  # part of one
        "7946",  # part of a phone number
        "astronaut",  # the title
        "as",  # the start of a word of the title
        "orbital works",  # the organization
    ],
)
def test_withheld_attributes_find_nobody_who_withholds_them(alice: Any, people: None, term: str) -> None:
    assert "Mia Stone" not in _search(alice, term)
    if term != "mia@orbital.example":
        assert "Ned Quill" in _search(alice, term)


@pytest.mark.parametrize("term", ["mia", "stone", "mia stone", "mi"])
def test_the_name_still_finds_them(alice: Any, people: None, term: str) -> None:
    assert _search(alice, term) == ["Mia Stone"]
