"""Free-text search: every database finds by name, email, organization and title;
PostgreSQL also ranks the matches and forgives typos (pg_trgm)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from contacts import selectors
from tests.factories import ContactFactory, ContactMethodFactory, OrganizationFactory

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text and trigram search need PostgreSQL (set DATABASE_URL)"
)


@pytest.fixture
def people(team: Any, other_team: Any) -> None:
    ContactFactory(
        team=team,
        display_name="Margaret Hamilton",
        title="Director of software engineering",
        email="mhamilton@apollo.example",
        organization=OrganizationFactory(team=team, name="Draper Laboratory"),
    )
    ContactFactory(team=team, display_name="Grace Hopper", title="Rear admiral", email="grace@navy.example")
    ContactFactory(team=team, display_name="Hamilton Naki", title="Surgeon")
    ContactFactory(team=other_team, display_name="Margaret Other", email="margaret@other.example")


def _search(user: Any, term: str, **filters: str) -> list[str]:
    contacts = selectors.contact_list(user=user, filters={"q": term, **filters})
    sort = selectors.contact_list_sort(filters.get("sort"), searching=bool(term.strip()))
    return [c.display_name for c in selectors.contact_list_page(contacts=contacts, sort=sort).rows]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("margaret", {"Margaret Hamilton"}),
        ("MHAMILTON@apollo", {"Margaret Hamilton"}),
        ("navy.example", {"Grace Hopper"}),
        ("draper", {"Margaret Hamilton"}),
        ("admiral", {"Grace Hopper"}),
        ("hamilton", {"Margaret Hamilton", "Hamilton Naki"}),
        ("nobody-like-this", set()),
    ],
)
def test_search_finds_by_name_email_organization_and_title(
    alice: Any, people: None, term: str, expected: set[str]
) -> None:
    assert set(_search(alice, term)) == expected


def test_search_never_crosses_teams(alice: Any, charlie: Any, people: None) -> None:
    assert _search(charlie, "margaret") == ["Margaret Other"]
    assert "Margaret Other" not in _search(alice, "margaret")


def test_search_combines_with_filters_and_an_explicit_sort(alice: Any, people: None) -> None:
    assert _search(alice, "hamilton", sort="-name") == ["Margaret Hamilton", "Hamilton Naki"]
    assert _search(alice, "hamilton", status="archived") == []


def test_search_matches_other_methods_and_ignores_blank_terms(alice: Any, team: Any, people: None) -> None:
    contact = ContactFactory(team=team, display_name="Phone Person")
    ContactMethodFactory(contact=contact, kind="phone", value="+44 20 7946 0958", normalized="+442079460958")
    assert _search(alice, "7946") == ["Phone Person"]
    assert len(_search(alice, "   ")) == 4


def test_the_search_box_updates_the_results_and_the_url(alice: Any, people: None, client_for: Any) -> None:
    response = client_for(alice).get(reverse("contacts:list"), {"q": "grace"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Grace Hopper" in body
    assert "Margaret" not in body


@postgresql_only
def test_postgresql_ranks_whole_word_matches_first(alice: Any, team: Any) -> None:
    ContactFactory(team=team, display_name="Annabel Smith", title="Buyer")
    ContactFactory(team=team, display_name="Ann Lee", title="Buyer")
    ContactFactory(team=team, display_name="Zed Ann", title="Engineer")
    results = _search(alice, "ann")
    assert set(results) == {"Annabel Smith", "Ann Lee", "Zed Ann"}
    assert results[-1] == "Annabel Smith"


@postgresql_only
def test_postgresql_forgives_typos_with_trigrams(alice: Any, people: None) -> None:
    assert _search(alice, "Margret Hamiltn") == ["Margaret Hamilton"]
    assert _search(alice, "Hoper") == ["Grace Hopper"]
    assert _search(alice, "50%_off") == []


@postgresql_only
def test_postgresql_full_text_matches_words_in_any_order(alice: Any, people: None) -> None:
    assert _search(alice, "engineering director") == ["Margaret Hamilton"]


@postgresql_only
def test_relevance_pages_have_no_duplicates_or_gaps(alice: Any, team: Any) -> None:
    for n in range(11):
        ContactFactory(team=team, display_name=f"Ann {'x' * (n % 4)}", title="Buyer" if n % 2 else "Ann fan")
    contacts = selectors.contact_list(user=alice, filters={"q": "ann"})
    seen: list[int] = []
    after = None
    while True:
        page = selectors.contact_list_page(contacts=contacts, sort=selectors.RELEVANCE, after=after, limit=3)
        seen += [c.pk for c in page.rows]
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert len(seen) == len(set(seen)) == 11


@postgresql_only
def test_postgresql_search_uses_the_indexes(alice: Any, team: Any) -> None:
    # With sequential scans priced out, the plan must still serve the contact branches from
    # the search indexes: the full-text expression and ILIKE / % / %> must match them. (On
    # tables this small the planner may read the method and organization tables through any
    # index, so their trigram indexes are left to the benchmarks.)
    contacts = selectors.contact_list(user=alice, filters={"q": "margaret"})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = contacts.explain()
    for index in ("contact_search_fts_idx", "contact_name_trgm_idx", "contact_title_trgm_idx"):
        assert index in plan, plan
