"""The duplicates page: suggestions by phone, +tag email and similar names in one organization."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.dedupe import duplicate_suggestions
from tests.factories import ContactFactory, ContactMethodFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _phone(contact, number: str) -> None:
    ContactMethodFactory(contact=contact, kind="phone", value=number, normalized=number)


def _pairs(user) -> list[tuple[str, str, list[str]]]:
    return [(s.first.display_name, s.second.display_name, s.reasons) for s in duplicate_suggestions(user=user)]


def test_same_phone_is_suggested(alice, team) -> None:
    ann, anne = ContactFactory(team=team, display_name="Ann Lee"), ContactFactory(team=team, display_name="A. Lee")
    ContactFactory(team=team, display_name="Someone Else")
    _phone(ann, "+442079460001")
    _phone(anne, "+442079460001")

    assert _pairs(alice) == [("Ann Lee", "A. Lee", ["Same phone number"])]


def test_same_email_but_for_a_plus_tag_is_suggested(alice, team) -> None:
    ContactFactory(team=team, display_name="Bo Chen", email="bo@chen.example")
    ContactFactory(team=team, display_name="Bo (newsletter)", email="bo+news@chen.example")

    assert _pairs(alice) == [("Bo Chen", "Bo (newsletter)", ["Same email address (but for a +tag)"])]


def test_similar_names_in_the_same_organization_are_suggested(alice, team) -> None:
    northwind, contoso = OrganizationFactory(team=team), OrganizationFactory(team=team)
    ContactFactory(team=team, display_name="Jon Smith", organization=northwind)
    ContactFactory(team=team, display_name="John Smith", organization=northwind)
    ContactFactory(team=team, display_name="John Smith", organization=contoso)  # another organization
    ContactFactory(team=team, display_name="Mary Jones", organization=northwind)

    assert _pairs(alice) == [("Jon Smith", "John Smith", ["Similar name in the same organization"])]


def test_several_reasons_come_first_and_archived_contacts_are_left_out(alice, team) -> None:
    northwind = OrganizationFactory(team=team)
    jon = ContactFactory(team=team, display_name="Jon Smith", organization=northwind)
    john = ContactFactory(team=team, display_name="John Smith", organization=northwind)
    ann, anne = ContactFactory(team=team, display_name="Ann"), ContactFactory(team=team, display_name="Anne")
    gone = ContactFactory(team=team, display_name="Old Ann", archived=True)
    for contact in (jon, john):
        _phone(contact, "+442079460002")
    for contact in (ann, anne, gone):
        _phone(contact, "+442079460003")

    assert _pairs(alice) == [
        ("Jon Smith", "John Smith", ["Same phone number", "Similar name in the same organization"]),
        ("Ann", "Anne", ["Same phone number"]),
    ]


def test_contacts_of_other_teams_are_never_paired_or_shown(alice, charlie, team, other_team) -> None:
    ours = ContactFactory(team=team, display_name="Ann")
    theirs = ContactFactory(team=other_team, display_name="Ann")
    _phone(ours, "+442079460004")
    _phone(theirs, "+442079460004")
    mine_too = ContactFactory(team=other_team, display_name="Anna")
    _phone(mine_too, "+442079460004")

    assert _pairs(alice) == []
    assert _pairs(charlie) == [("Ann", "Anna", ["Same phone number"])]


def _fill(team, pairs: int) -> None:
    for index in range(pairs):
        organization = OrganizationFactory(team=team)
        first = ContactFactory(team=team, display_name=f"Person Number{index}", organization=organization)
        second = ContactFactory(team=team, display_name=f"Person Numbr{index}", organization=organization)
        _phone(first, f"+4420794610{index:02d}")
        _phone(second, f"+4420794610{index:02d}")


@pytest.mark.parametrize("pairs", [2, 12])
def test_duplicates_page_query_budget(alice, team, client_for, django_assert_max_num_queries, pairs) -> None:
    _fill(team, pairs)
    client = client_for(alice)
    # Session, user, roles, visible teams, shared phones, +tag emails (one; a second only
    # when some exist), names in one organization, the contacts with their organizations,
    # their methods, and the navigation's reminder count: 10, at any number of pairs.
    with django_assert_max_num_queries(11):
        response = client.get(reverse("contacts:duplicates"))

    assert response.status_code == 200
    assert response.content.decode().count("Compare and merge") == pairs


def test_charlie_sees_none_of_alices_duplicates(alice, charlie, team, client_for) -> None:
    _fill(team, 2)

    page = client_for(charlie).get(reverse("contacts:duplicates")).content.decode()

    assert "Person Number0" not in page
    assert "No likely duplicates" in page
