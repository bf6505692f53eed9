"""Privacy preferences on the contact pages: chosen names, withheld attributes, badges, budgets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from consent import selectors
from consent.models import PrivacyPreference
from contacts import registry
from contacts.models import ContactMethod
from tests.factories import ActivityFactory, ContactFactory, ContactMethodFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

WITHHELD = ["email", "phone", "title"]


@pytest.fixture
def organization(team: Any) -> Any:
    return OrganizationFactory(team=team, name="Acme Rockets")


@pytest.fixture
def private(team: Any, alice: Any, organization: Any) -> Any:
    """Rosa, who goes by a pseudonym and withholds her email, phone and title."""
    contact = ContactFactory(
        team=team,
        owner=alice,
        display_name="Rosa Parkes",
        title="Chief rocket officer",
        organization=organization,
        email="rosa@acme.example",
    )
    ContactMethodFactory(
        contact=contact, kind=ContactMethod.Kind.PHONE, value="+44 20 7946 0001", normalized="+442079460001"
    )
    PrivacyPreference.objects.create(
        contact=contact, identify_by="pseudonym", pseudonym="R. the Rocketeer", withheld_attributes=WITHHELD
    )
    ActivityFactory(contact=contact, actor=alice)
    return contact


def _assert_withheld(html: str) -> None:
    assert "R. the Rocketeer" in html
    assert "Rosa Parkes" not in html
    assert "rosa@acme.example" not in html
    assert "7946 0001" not in html and "+442079460001" not in html
    assert "Chief rocket officer" not in html


def test_the_contact_page_shows_the_pseudonym_and_hides_withheld_attributes(
    private: Any, alice: Any, client_for: Any
) -> None:
    html = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": private.pk})).content.decode()
    _assert_withheld(html)
    # What is not withheld stays, and the consent panels are there.
    assert "Acme Rockets" in html
    assert 'data-panel="consent"' in html and "Records and receipts" in html


def test_the_contact_page_shows_everything_without_preferences(team: Any, alice: Any, client_for: Any) -> None:
    contact = ContactFactory(team=team, display_name="Open Book", title="Librarian", email="book@open.example")
    html = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": contact.pk})).content.decode()
    assert "Open Book" in html and "Librarian" in html and "book@open.example" in html


def test_the_list_shows_chosen_names_hides_withheld_columns_and_shows_badges(
    private: Any, team: Any, alice: Any, client_for: Any, record: Any
) -> None:
    other = ContactFactory(team=team, display_name="Open Book", title="Librarian", email="book@open.example")
    record(private, "marketing_email", "grant")
    record(other, "sales_outreach", "object")
    html = client_for(alice).get(reverse("contacts:list")).content.decode()
    _assert_withheld(html)
    # Withheld per row: the other contact's columns are there.
    assert "Open Book" in html and "Librarian" in html and "book@open.example" in html
    assert "Marketing email: granted" in html and "badge-success" in html
    assert "Sales outreach: objected" in html and "badge-danger" in html


def test_the_organization_page_shows_chosen_names_and_badges_and_hides_withheld_titles(
    private: Any, organization: Any, alice: Any, client_for: Any, record: Any
) -> None:
    record(private, "marketing_email", "withdraw")
    html = client_for(alice).get(reverse("contacts:organization_detail", kwargs={"pk": organization.pk})).content
    html = html.decode()
    _assert_withheld(html)
    assert "Marketing email: withdrawn" in html
    # The combined timeline names the person as they chose, too.
    assert html.count("R. the Rocketeer") >= 2


def test_who_withholds_their_organization_is_not_listed_on_its_page(
    private: Any, organization: Any, alice: Any, client_for: Any
) -> None:
    PrivacyPreference.objects.filter(contact=private).update(withheld_attributes=["organization"])
    html = client_for(alice).get(reverse("contacts:organization_detail", kwargs={"pk": organization.pk})).content
    assert b"R. the Rocketeer" not in html
    contact_page = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": private.pk})).content.decode()
    assert "Acme Rockets" not in contact_page


def test_recording_consent_refreshes_what_the_panel_read_in_the_same_request(
    private: Any, alice: Any, record: Any
) -> None:
    assert selectors.consent_snapshot(private).states == {}
    record(private, "marketing_email", "grant")
    rows = {row.purpose.code: row for row in selectors.consent_panel_rows(private)}
    assert rows["marketing_email"].allowed
    assert rows["marketing_email"].state is not None


@pytest.fixture
def consent_panels_only() -> Iterator[None]:
    """Only the consent app's panels on the contact page (other apps assert their own)."""
    registered = dict(registry._panels)
    registry._panels.clear()
    registry._panels.update({name: registered[name] for name in ("consent", "privacy_preferences")})
    yield
    registry._panels.clear()
    registry._panels.update(registered)


@pytest.mark.parametrize("size", [1, 7])
def test_the_consent_panels_add_no_query_to_the_contact_page(
    size: int,
    consent_panels_only: None,
    private: Any,
    alice: Any,
    client_for: Any,
    record: Any,
    django_assert_max_num_queries: Any,
) -> None:
    codes = ["marketing_email", "sales_outreach", "enrichment", "social_listening", "sentiment_analysis"]
    for index in range(size):
        record(private, codes[index % len(codes)], "grant")
        ActivityFactory(contact=private, actor=alice)
    client = client_for(alice)
    url = reverse("contacts:detail", kwargs={"pk": private.pk})
    client.get(url)  # warm the in-process caches (consent's purposes)
    # The session comes from the cache. 1 user, 2 roles, 3 visible teams, 4 contact with its
    # methods and tags, 5-6 audit (chain head, insert), 7 the consent preferences and states,
    # read once for the header card, the consent panel (states, gate decisions; purposes and
    # the record form's choices come from the in-process cache) and the preferences panel,
    # 8 timeline page, 9 the reminders' bell in the navigation.
    with django_assert_max_num_queries(9):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-panel="consent"' in html and 'data-panel="privacy_preferences"' in html
    _assert_withheld(html)


@pytest.mark.parametrize("size", [3, 40])
def test_names_withheld_columns_and_badges_cost_one_query_per_list_page(
    size: int, team: Any, alice: Any, client_for: Any, record: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(size):
        contact = ContactFactory(team=team, email=f"p{index}@client.example")
        record(contact, "marketing_email", "grant")
        PrivacyPreference.objects.create(contact=contact, withheld_attributes=["email"])
    client = client_for(alice)
    client.get(reverse("contacts:list"))  # warm the in-process caches (consent's purposes)
    # user, roles, teams, owner choices, tag choices, saved views, the rows with the capped
    # count, 8 the page's consent preferences and states (names, withheld columns, badges),
    # 9 the reminders' bell.
    with django_assert_max_num_queries(9):
        html = client.get(reverse("contacts:list")).content.decode()
    assert html.count("Marketing email: granted") == min(size, 50)
    assert "@client.example" not in html


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="prefix search needs PostgreSQL")


@postgresql_only
def test_one_or_two_letters_match_the_start_of_words_in_names_and_titles(
    team: Any, alice: Any, client_for: Any
) -> None:
    ContactFactory(team=team, display_name="Grace Hopper", title="Admiral")
    ContactFactory(team=team, display_name="Ada Lovelace", title="Analyst")
    ContactFactory(team=team, display_name="Alan Turing", title="Mathematician")
    client = client_for(alice)

    def names(term: str) -> list[str]:
        response = client.get(reverse("contacts:list"), {"q": term})
        return [contact.display_name for contact in response.context["page"].rows]

    assert names("ho") == ["Grace Hopper"]
    assert names("ad") == ["Ada Lovelace", "Grace Hopper"]  # by name: short terms are not ranked
    assert names("ma") == ["Alan Turing"]
    assert names("") == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert names("pp") == []  # inside a word: 3 letters or more
    assert names("opp") == ["Grace Hopper"]


def test_the_console_caps_the_unassessed_counts_and_caches_the_state_counts(
    team: Any, dpo: Any, client_for: Any, record: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(selectors, "UNASSESSED_COUNT_CAP", 2)
    contacts = ContactFactory.create_batch(3, team=team)
    client = client_for(dpo)
    overview = client.get(reverse("consent:console")).context["overview"]
    assert {(item.contacts, item.capped) for item in overview.unassessed} == {(2, True)}
    record(contacts[0], "marketing_email", "grant")
    # The per-purpose counts are at most a minute old; the capped counts are live.
    response = client.get(reverse("consent:console"))
    counts = {row.purpose.code: row.granted for row in response.context["overview"].counts}
    assert counts["marketing_email"] == 0
    assert "2+ contacts" in response.content.decode()
