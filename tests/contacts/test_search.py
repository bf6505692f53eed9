"""Free-text search: every database finds by name, email, organization and title;
PostgreSQL also ranks the matches and forgives typos (pg_trgm)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import selectors
from contacts.filters import ContactFilter
from contacts.models import Contact, Tag
from contacts.search import contact_search, search_is_ranked
from contacts.services import contacts as services
from socialcrm.models import User
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
    sort = selectors.contact_list_sort(filters.get("sort"), searching=search_is_ranked(term))
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
def test_postgresql_spellings_are_searched_only_when_nothing_contains_the_term(
    alice: Any, team: Any, other_team: Any
) -> None:
    ContactFactory(team=team, display_name="Ada Lovelace")
    ContactFactory(team=team, display_name="Adam Lovelace")
    # "ada lovelace" is in one name: the other Lovelace is not listed for sharing trigrams.
    assert _search(alice, "ada lovelace") == ["Ada Lovelace"]
    assert _search(alice, "ada lovelase")[0] == "Ada Lovelace"
    # Another team's exact match does not keep this team's spellings out.
    ContactFactory(team=other_team, display_name="Ada Lovelase")
    assert "Ada Lovelace" in _search(alice, "lovelase")


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


def _matching_query(user: Any, term: str) -> str:
    """The SQL of the query that reads the matching ids (run when the search is built)."""
    with CaptureQueriesContext(connection) as captured:
        selectors.contact_list(user=user, filters={"q": term})
    [query] = [query["sql"] for query in captured.captured_queries if "ARRAY(" in query["sql"]]
    return query


@postgresql_only
def test_postgresql_search_uses_the_indexes(dpo: Any, team: Any) -> None:
    # With sequential scans priced out, the plan must still serve the contact branches from
    # the search indexes: the stored document and ILIKE / % / %> must match them. (On tables
    # this small the planner may read the method and organization tables through any index,
    # so their trigram indexes are left to the benchmarks; and a team's few contacts through
    # the team's index: the DPO sees every team.)
    ContactFactory(team=team, display_name="Margaret Hamilton")
    sql = _matching_query(dpo, "margaret")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for index in ("contact_search_document_idx", "contact_name_trgm_idx", "contact_title_trgm_idx"):
        assert index in plan, plan


@postgresql_only
def test_postgresql_reads_the_matches_once(alice: Any, people: None) -> None:
    # The branches run in one query that reads the matching ids; the page and its capped
    # count look those up by primary key.
    with CaptureQueriesContext(connection) as captured:
        assert _search(alice, "hamilton") == ["Hamilton Naki", "Margaret Hamilton"]
    searching = [query["sql"] for query in captured.captured_queries if "ILIKE" in query["sql"]]
    assert len(searching) == 1


def test_the_stored_document_follows_edits_and_bulk_updates(alice: Any, team: Any) -> None:
    # PostgreSQL generates the document from the name and title on every write, the
    # services' and a bulk UPDATE's alike (imports write with COPY, merges with UPDATE).
    contact = services.contact_create(actor=alice, team=team, first_name="Ada", last_name="Byron", title="Poet")
    assert _search(alice, "poet") == ["Ada Byron"]
    services.contact_update(actor=alice, contact=contact, first_name="Ada", last_name="Lovelace", title="Analyst")
    assert _search(alice, "analyst") == _search(alice, "lovelace") == ["Ada Lovelace"]
    assert _search(alice, "poet") == _search(alice, "byron") == []
    Contact.objects.filter(pk=contact.pk).update(title="Countess")
    assert _search(alice, "countess") == ["Ada Lovelace"]
    assert _search(alice, "co") == ["Ada Lovelace"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("mhamilton@apollo.example", ["Margaret Hamilton"]),
        ("grace@", ["Grace Hopper"]),
        ("@navy.example", ["Grace Hopper"]),
        ("@apollo.invalid", []),
    ],
)
def test_address_terms_find_the_contact_by_its_methods(
    alice: Any, people: None, term: str, expected: list[str]
) -> None:
    assert _search(alice, term) == expected


def test_terms_with_digits_match_numbers_exactly(alice: Any, team: Any) -> None:
    ContactFactory(team=team, display_name="Agent 4711", title="Perfumer")
    ContactFactory(team=team, display_name="Agent 4712", title="Perfumer")
    assert _search(alice, "4711") == ["Agent 4711"]
    assert _search(alice, "agent 4711") == ["Agent 4711"]


@postgresql_only
def test_terms_of_one_kind_share_the_matching_query_each_with_its_own_words(
    alice: Any, team: Any, people: None
) -> None:
    # The matching query is compiled once per shape and the term filled in: each term finds
    # its own people, with its own escaping of LIKE's wildcards ("_" matches no digit here).
    ContactFactory(team=team, display_name="Agent 4711", title="Perfumer")
    assert _search(alice, "hamilton") == ["Hamilton Naki", "Margaret Hamilton"]
    assert _search(alice, "grace") == ["Grace Hopper"]
    assert _search(alice, "4711") == ["Agent 4711"]
    assert _search(alice, "4_11") == []
    assert _search(alice, "navy.example") == ["Grace Hopper"]
    assert _search(alice, "@navy.example") == ["Grace Hopper"]
    assert _search(alice, "hamilton", status="archived") == []


def _ranked(search: Callable[[], Any], *, limit: int = 50) -> list[str]:
    """Every page by relevance of what ``search()`` finds, ``limit`` rows a page, following
    the cursors; each page searches again, as each request of the list does."""
    names: list[str] = []
    after = None
    while True:
        page = selectors.contact_list_page(contacts=search(), sort=selectors.RELEVANCE, after=after, limit=limit)
        names += [contact.display_name for contact in page.rows]
        if not page.next_cursor:
            return names
        after = page.next_cursor


@pytest.fixture
def lovelaces(team: Any) -> None:
    # Created in this order: the later, the higher the id.
    for n in range(1, 5):
        ContactFactory(team=team, display_name=f"Ada{n} Lovelace", title="Poet")
    ContactFactory(team=team, display_name="Bea Lovelacey", title="Poet")
    ContactFactory(team=team, display_name="Cy Byron", title="Poet", email="cy.lovelace@example.com")


@postgresql_only
def test_a_bounded_search_ranks_whole_words_first_then_the_newest(alice: Any, lovelaces: None) -> None:
    contacts = selectors.visible_contacts(alice)
    whole_words = ["Ada4 Lovelace", "Ada3 Lovelace", "Ada2 Lovelace", "Ada1 Lovelace"]
    # Every match: the whole word ranks first (equal ranks: the newest first), then the term
    # inside a name or an address.
    everyone = _ranked(lambda: contact_search(contacts, "lovelace"))
    assert everyone[:4] == whole_words
    assert set(everyone[4:]) == {"Bea Lovelacey", "Cy Byron"}
    # More matches than the bound: the whole words take the places first, the newest first;
    # the page is ranked among them, as the unbounded search ranks the same rows.
    assert _ranked(lambda: contact_search(contacts, "lovelace", limit=3)) == whole_words[:3]
    assert _ranked(lambda: contact_search(contacts, "lovelace", limit=5)) == [*whole_words, "Cy Byron"]


@postgresql_only
def test_the_pages_of_a_bounded_search_follow_one_another(alice: Any, lovelaces: None) -> None:
    contacts = selectors.visible_contacts(alice)
    expected = ["Ada4 Lovelace", "Ada3 Lovelace", "Ada2 Lovelace", "Ada1 Lovelace", "Cy Byron"]
    assert _ranked(lambda: contact_search(contacts, "lovelace", limit=5), limit=2) == expected


@postgresql_only
def test_the_other_filters_apply_before_the_bound(alice: Any, team: Any, lovelaces: None) -> None:
    # The newest whole-word matches are archived: they take no place among the active ones.
    for n in range(2):
        ContactFactory(team=team, display_name=f"Old{n} Lovelace", title="Poet", archived=True)
    filterset = ContactFilter(
        {"q": "lovelace"},
        selectors.visible_contacts(alice),
        teams=[],
        owners=User.objects.none(),
        tags=Tag.objects.none(),
        search_limit=2,
    )
    assert _ranked(lambda: filterset.qs) == ["Ada4 Lovelace", "Ada3 Lovelace"]


@postgresql_only
def test_only_the_list_page_by_relevance_bounds_the_search(alice: Any) -> None:
    # The count says "1,000+" beyond the cap: a page by relevance ranks one match more at
    # most. Sorted by a column, exported or counted, a search finds every match.
    page_limit = selectors.LIST_COUNT_CAP + 1
    assert selectors.contact_filter(user=alice, data={"q": "x"}, for_page=True).search_limit == page_limit
    assert selectors.contact_filter(user=alice, data={"sort": "relevance"}, for_page=True).search_limit == page_limit
    assert selectors.contact_filter(user=alice, data={"sort": "-created"}, for_page=True).search_limit is None
    assert selectors.contact_filter(user=alice, data={"q": "x"}).search_limit is None


def test_short_terms_are_never_bounded(alice: Any, team: Any) -> None:
    # Listed by name, not ranked: a bound would list some other names first.
    for name in ("Lo Zed", "Lou Ann", "Ann Low"):
        ContactFactory(team=team, display_name=name, title="Poet")
    contacts = contact_search(selectors.visible_contacts(alice), "lo", limit=1)
    assert [c.display_name for c in selectors.contact_list_page(contacts=contacts, sort="name").rows] == [
        "Ann Low",
        "Lo Zed",
        "Lou Ann",
    ]


@postgresql_only
def test_a_search_by_relevance_beyond_the_cap_says_how_to_see_every_match(
    alice: Any, team: Any, client_for: Any
) -> None:
    Contact.objects.bulk_create(
        Contact(team=team, display_name=f"Poet{n} Lovelace", first_name=f"Poet{n}", last_name="Lovelace")
        for n in range(selectors.LIST_COUNT_CAP + 1)
    )
    hint = "Sort by a column to go through all of them."

    by_relevance = client_for(alice).get(reverse("contacts:list"), {"q": "lovelace"})
    by_name = client_for(alice).get(reverse("contacts:list"), {"q": "lovelace", "sort": "name"})

    assert "1,000+ contacts" in by_relevance.content.decode()
    assert hint in by_relevance.content.decode()
    assert hint not in by_name.content.decode()
