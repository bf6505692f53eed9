"""The contact list: filters, sorting, keyset pages, capped counts, htmx and its query budget."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts import selectors
from contacts.models import Contact, Reminder, Tag
from tests.factories import (
    ContactFactory,
    OrganizationFactory,
    ReminderFactory,
    TagFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _names(page: selectors.ListPage[Contact]) -> list[str]:
    return [contact.display_name for contact in page.rows]


def _listed(user: Any, sort: str = "name", **filters: str) -> list[str]:
    contacts = selectors.contact_list(user=user, filters=filters)
    return _names(selectors.contact_list_page(contacts=contacts, sort=sort))


def test_filters_by_owner_tag_organization_and_team(alice: Any, bob: Any, team: Any, mona: Any) -> None:
    mona_team2 = TeamFactory(managers=[mona])
    acme = OrganizationFactory(team=team, name="Acme")
    vip = TagFactory(team=team, name="vip")
    ann = ContactFactory(team=team, display_name="Ann", owner=alice, organization=acme)
    ann.tags.add(vip)
    ContactFactory(team=team, display_name="Ben", owner=bob)
    ContactFactory(team=mona_team2, display_name="Cid")
    assert _listed(alice, owner=str(alice.pk)) == ["Ann"]
    assert _listed(alice, tag=str(vip.pk)) == ["Ann"]
    assert _listed(alice, organization="acm") == ["Ann"]
    assert _listed(mona) == ["Ann", "Ben", "Cid"]
    assert _listed(mona, team=str(mona_team2.pk)) == ["Cid"]


def test_filters_by_last_contacted_and_archived(alice: Any, team: Any) -> None:
    now = timezone.now()
    ContactFactory(team=team, display_name="Recent", last_contacted_at=now - timedelta(days=2))
    ContactFactory(team=team, display_name="Old", last_contacted_at=now - timedelta(days=400))
    ContactFactory(team=team, display_name="Never")
    ContactFactory(team=team, display_name="Gone", archived=True)
    cutoff = (now - timedelta(days=30)).date().isoformat()
    assert _listed(alice, contacted_after=cutoff) == ["Recent"]
    assert _listed(alice, contacted_before=cutoff) == ["Old"]
    assert _listed(alice) == ["Never", "Old", "Recent"]
    assert _listed(alice, status="archived") == ["Gone"]
    assert _listed(alice, status="all") == ["Gone", "Never", "Old", "Recent"]


def test_filters_by_open_reminders(alice: Any, team: Any) -> None:
    waiting = ContactFactory(team=team, display_name="Waiting")
    snoozed = ContactFactory(team=team, display_name="Snoozed")
    done = ContactFactory(team=team, display_name="Done")
    ContactFactory(team=team, display_name="Nothing")
    ReminderFactory(contact=waiting, assignee=alice)
    ReminderFactory(contact=snoozed, assignee=alice, status=Reminder.Status.SNOOZED)
    ReminderFactory(contact=done, assignee=alice, status=Reminder.Status.DONE)

    assert _listed(alice, reminders="open") == ["Snoozed", "Waiting"]
    assert _listed(alice, reminders="none") == ["Done", "Nothing"]


def test_sorts_by_each_column_both_ways(alice: Any, team: Any) -> None:
    now = timezone.now()
    ContactFactory(
        team=team,
        display_name="Bea",
        organization=OrganizationFactory(team=team, name="Zeta"),
        last_contacted_at=now - timedelta(days=1),
        created_at=now - timedelta(days=3),
    )
    ContactFactory(
        team=team,
        display_name="Al",
        organization=OrganizationFactory(team=team, name="Alpha"),
        created_at=now - timedelta(days=1),
    )
    ContactFactory(team=team, display_name="Cy", last_contacted_at=now - timedelta(days=9), created_at=now)
    assert _listed(alice, "name") == ["Al", "Bea", "Cy"]
    assert _listed(alice, "-name") == ["Cy", "Bea", "Al"]
    # Empty values come last both ways.
    assert _listed(alice, "organization") == ["Al", "Bea", "Cy"]
    assert _listed(alice, "-organization") == ["Bea", "Al", "Cy"]
    assert _listed(alice, "-last_contacted") == ["Bea", "Cy", "Al"]
    assert _listed(alice, "last_contacted") == ["Cy", "Bea", "Al"]
    assert _listed(alice, "created") == ["Bea", "Al", "Cy"]
    assert _listed(alice, "-created") == ["Cy", "Al", "Bea"]


def test_unknown_sorts_fall_back_to_name() -> None:
    assert selectors.contact_list_sort("-nonsense", searching=False) == "name"
    assert selectors.contact_list_sort("relevance", searching=False) == "name"
    assert selectors.contact_list_sort("-created", searching=True) == "-created"


def _walk(user: Any, sort: str, limit: int, between_pages: Any = None) -> list[int]:
    """Every id the list shows, page after page, calling ``between_pages`` after each page."""
    seen: list[int] = []
    after = None
    for _ in range(100):
        contacts = selectors.contact_list(user=user)
        page = selectors.contact_list_page(contacts=contacts, sort=sort, after=after, limit=limit)
        seen += [contact.pk for contact in page.rows]
        if page.next_cursor is None:
            return seen
        after = page.next_cursor
        if between_pages:
            between_pages()
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("sort", ["name", "-name", "organization", "-organization", "last_contacted", "-created"])
def test_keyset_pages_have_no_duplicates_or_gaps_when_rows_arrive_between_pages(
    alice: Any, team: Any, sort: str
) -> None:
    now = timezone.now()
    organizations = [OrganizationFactory(team=team, name=name) for name in ("Alpha", "Beta")]
    for n in range(23):
        ContactFactory(
            team=team,
            # Repeated names, organizations and times: ties are broken by id.
            display_name=f"Person {n % 5}",
            organization=organizations[n % 2] if n % 3 else None,
            last_contacted_at=now - timedelta(days=n % 4) if n % 2 else None,
            created_at=now - timedelta(hours=n % 6),
        )
    before = set(Contact.objects.values_list("pk", flat=True))
    arrivals = iter(range(100))

    def someone_adds_a_contact() -> None:
        n = next(arrivals)
        ContactFactory(team=team, display_name=f"Person {n % 5}", created_at=now - timedelta(hours=n % 6))

    seen = _walk(alice, sort, limit=4, between_pages=someone_adds_a_contact)
    assert len(seen) == len(set(seen)), "a row was shown twice"
    assert before <= set(seen), "a row that existed before the first page was skipped"
    ordered = list(selectors.contact_list_page(contacts=selectors.contact_list(user=alice), sort=sort, limit=1000).rows)
    positions = [row.pk for row in ordered]
    assert [pk for pk in positions if pk in set(seen)] == seen, "pages are not in the list's order"


def test_a_malformed_or_foreign_cursor_starts_at_the_first_page(alice: Any, team: Any) -> None:
    for n in range(3):
        ContactFactory(team=team, display_name=f"P{n}")
    contacts = selectors.contact_list(user=alice)
    first = selectors.contact_list_page(contacts=contacts, sort="name", limit=2)
    for bad in ("garbage", "eyJ4Ijoy", first.next_cursor):
        page = selectors.contact_list_page(contacts=contacts, sort="-created", after=bad, limit=2)
        assert page.is_first
    assert _names(selectors.contact_list_page(contacts=contacts, sort="name", after=first.next_cursor)) == ["P2"]


def test_counts_are_capped(alice: Any, team: Any) -> None:
    for n in range(7):
        ContactFactory(team=team, display_name=f"P{n}")
    contacts = selectors.contact_list(user=alice)
    page = selectors.keyset_page(
        contacts, sort="name", order=selectors.CONTACT_SORTS["name"], after=None, limit=2, cap=5
    )
    assert (page.count, page.count_capped) == (5, True)
    page = selectors.keyset_page(
        contacts, sort="name", order=selectors.CONTACT_SORTS["name"], after=None, limit=2, cap=50
    )
    assert (page.count, page.count_capped) == (7, False)


def test_the_page_links_sorts_and_next_pages_keeping_the_filters(alice: Any, team: Any, client_for: Any) -> None:
    for n in range(3):
        ContactFactory(team=team, display_name=f"P{n}", owner=alice)
    response = client_for(alice).get(reverse("contacts:list"), {"owner": alice.pk, "sort": "-name", "junk": "x"})
    body = response.content.decode()
    assert f"?owner={alice.pk}&amp;sort=name" in body
    assert 'aria-sort="descending"' in body
    assert "junk" not in body
    assert body.index("P2") < body.index("P0")
    assert "3 contacts" in body


def test_the_list_shows_primary_email_and_links(alice: Any, team: Any, client_for: Any) -> None:
    acme = OrganizationFactory(team=team, name="Acme & Co")
    contact = ContactFactory(team=team, display_name="Ann <b>Lee</b>", organization=acme, email="ann@example.com")
    body = client_for(alice).get(reverse("contacts:list")).content.decode()
    assert "Ann &lt;b&gt;Lee&lt;/b&gt;" in body
    assert "mailto:ann@example.com" in body
    assert reverse("contacts:detail", kwargs={"pk": contact.pk}) in body
    assert reverse("contacts:organization_detail", kwargs={"pk": acme.pk}) in body
    assert "Acme &amp; Co" in body


def test_htmx_requests_get_only_the_results(alice: Any, team: Any, client_for: Any) -> None:
    ContactFactory(team=team, display_name="Ann")
    client = client_for(alice)
    fragment = client.get(reverse("contacts:list"), {"q": "Ann"}, headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<section id="contact-results"')
    assert "HX-Request" in fragment["Vary"]
    restore = client.get(reverse("contacts:list"), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()
    page = client.get(reverse("contacts:list"))
    assert 'id="contact-filter"' in page.content.decode()
    assert 'hx-push-url="true"' in page.content.decode()


def test_empty_states(alice: Any, team: Any, client_for: Any) -> None:
    client = client_for(alice)
    assert "No contacts yet." in client.get(reverse("contacts:list")).content.decode()
    ContactFactory(team=team, display_name="Ann")
    assert "No contacts match these filters." in client.get(reverse("contacts:list"), {"q": "zzz"}).content.decode()


def _fill(team: Any, n: int) -> None:
    owners = [UserFactory() for _ in range(2)]
    team.members.add(*owners)
    organizations = [OrganizationFactory(team=team) for _ in range(3)]
    tag = TagFactory(team=team)
    for i in range(n):
        contact = ContactFactory(
            team=team,
            owner=owners[i % 2],
            organization=organizations[i % 3],
            email=f"person{i}@client.example",
            last_contacted_at=timezone.now() - timedelta(days=i),
        )
        contact.tags.add(tag)


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize("params", [{}, {"q": "person", "sort": "-last_contacted"}])
def test_list_page_query_count_does_not_grow_with_the_data(
    size: int, params: dict[str, str], alice: Any, team: Any, django_assert_max_num_queries: Any
) -> None:
    _fill(team, size)
    client = Client()
    client.force_login(alice)
    client.get(reverse("contacts:list"))  # warm the in-process caches (consent's purposes)
    # (The session comes from the cache.) user, roles (groups), the user's teams (also the
    # team choices), owner choices, tag choices, saved views, the page rows (organization,
    # owner and primary email joined or subqueried, the capped count as a subquery), the
    # consent preferences and states of the page's contacts (chosen names, withheld columns,
    # badges), the reminders' due count in the navigation; a search on PostgreSQL reads its
    # matching ids first (contacts/search.py).
    searching = params.get("q") and connection.vendor == "postgresql"
    with django_assert_max_num_queries(10 if searching else 9):
        response = client.get(reverse("contacts:list"), {**params, "after": ""})
    assert response.status_code == 200


@pytest.mark.parametrize("size", [3, 30])
def test_the_tag_and_owner_filters_cost_no_query_of_their_own(
    size: int, alice: Any, team: Any, django_assert_max_num_queries: Any
) -> None:
    _fill(team, size)
    tag = Tag.objects.get(team=team)
    owner = team.members.exclude(pk=alice.pk).first()
    client = Client()
    client.force_login(alice)
    client.get(reverse("contacts:list"))
    # As the unfiltered page: the owner and tag choices are read once, for the picker and
    # to check the chosen value alike.
    with django_assert_max_num_queries(9):
        response = client.get(reverse("contacts:list"), {"tag": tag.pk, "owner": owner.pk})
    assert response.status_code == 200
    assert response.content.decode().count('href="/contacts/') >= size // 2


def test_list_page_query_count_with_a_next_page(
    alice: Any, team: Any, django_assert_max_num_queries: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(selectors, "LIST_PAGE_SIZE", 5)
    _fill(team, 12)
    client = Client()
    client.force_login(alice)
    first = client.get(reverse("contacts:list"))
    assert "Next page" in first.content.decode()
    with django_assert_max_num_queries(10):
        assert client.get(reverse("contacts:list"), {"sort": "created"}).status_code == 200


def test_organization_list_query_count_and_people(
    alice: Any, team: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    _fill(team, 9)
    client = client_for(alice)
    # session, user, roles, teams, the page rows (team joined, people subqueried)
    with django_assert_max_num_queries(6):
        body = client.get(reverse("contacts:organization_list")).content.decode()
    assert body.count("<td>3</td>") == 3
