"""The organization page: its visible people and their combined timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Activity
from contacts.selectors import TIMELINE_PAGE_SIZE
from tests.factories import ActivityFactory, ContactFactory, OrganizationFactory, ReminderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organization(team: Any) -> Any:
    return OrganizationFactory(team=team, name="Initech")


def _url(organization: Any) -> str:
    return reverse("contacts:organization_detail", kwargs={"pk": organization.pk})


def test_shows_its_people_and_a_combined_timeline_newest_first(
    organization: Any, team: Any, alice: Any, client_for: Any
):
    peter = ContactFactory(team=team, organization=organization, display_name="Peter Gibbons")
    milton = ContactFactory(team=team, organization=organization, display_name="Milton Waddams")
    outsider = ContactFactory(team=team, display_name="Bill Lumbergh")
    now = datetime(2025, 1, 10, tzinfo=UTC)
    ActivityFactory(contact=peter, subject="peter-old", occurred_at=now - timedelta(days=2))
    ActivityFactory(contact=milton, subject="milton-new", occurred_at=now)
    ActivityFactory(contact=outsider, subject="not-initech", occurred_at=now)

    response = client_for(alice).get(_url(organization))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Initech" in html
    assert "Peter Gibbons" in html and "Milton Waddams" in html
    assert html.index("milton-new") < html.index("peter-old")
    assert "not-initech" not in html
    assert "Bill Lumbergh" not in html
    # Each entry says whom it is about.
    assert reverse("contacts:detail", kwargs={"pk": milton.pk}) in html


def test_people_of_another_team_in_the_organization_stay_hidden(
    organization: Any, team: Any, other_team: Any, alice: Any, client_for: Any
):
    # Data that should not exist, but the page must not leak it if it does.
    stranger = ContactFactory(team=other_team, organization=organization, display_name="Stranger Danger")
    ActivityFactory(contact=stranger, subject="secret-subject")

    html = client_for(alice).get(_url(organization)).content.decode()

    assert "Stranger Danger" not in html
    assert "secret-subject" not in html


def test_combined_timeline_loads_more_by_keyset_and_filters_by_kind(
    organization: Any, team: Any, alice: Any, client_for: Any
):
    people = ContactFactory.create_batch(3, team=team, organization=organization)
    base = datetime(2024, 3, 1, tzinfo=UTC)
    calls = {
        ActivityFactory(
            contact=people[index % 3], kind=Activity.Kind.CALL, occurred_at=base + timedelta(hours=index)
        ).pk
        for index in range(TIMELINE_PAGE_SIZE + 4)
    }
    ActivityFactory.create_batch(4, contact=people[0], kind=Activity.Kind.NOTE)
    client = client_for(alice)
    fragment_url = reverse("contacts:organization_timeline", kwargs={"pk": organization.pk})

    first = client.get(fragment_url, {"kind": "call"}, HTTP_HX_REQUEST="true").content.decode()
    cursor = re.search(r'hx-get="[^"]*before=([0-9_]+)"', first)
    assert cursor
    second = client.get(fragment_url, {"kind": "call", "before": cursor.group(1)}, HTTP_HX_REQUEST="true")

    seen = [int(pk) for pk in re.findall(r'id="activity-(\d+)"', first + second.content.decode())]
    assert len(seen) == len(set(seen))
    assert set(seen) == calls


def test_charlie_gets_404_on_alices_organization(organization: Any, charlie: Any, client_for: Any):
    client = client_for(charlie)
    assert client.get(_url(organization)).status_code == 404
    timeline = reverse("contacts:organization_timeline", kwargs={"pk": organization.pk})
    assert client.get(timeline).status_code == 404


@pytest.mark.parametrize("size", [1, 12])
def test_organization_page_runs_a_constant_number_of_queries(
    size: int, organization: Any, team: Any, alice: Any, bob: Any, client_for: Any, django_assert_max_num_queries: Any
):
    for _ in range(size):
        person = ContactFactory(team=team, organization=organization, owner=bob)
        ActivityFactory.create_batch(3, contact=person, actor=alice)
        ReminderFactory(contact=person, assignee=alice, due_at=timezone.now() - timedelta(hours=1))
    client = client_for(alice)
    client.get(_url(organization))  # warm the in-process caches (consent's purposes)
    # (The session comes from the cache.) 1 user, 2 roles, 3 visible teams, 4 organization
    # with the reminders' due count in the navigation, 5 people, 6 combined
    # timeline page with actors and contacts, 7 the consent preferences and states of the
    # people and the timeline's contacts (chosen names, withheld titles, badges).
    with django_assert_max_num_queries(7):
        response = client.get(_url(organization))
    html = response.content.decode()
    assert html.count('class="timeline-entry ') == min(size * 3, TIMELINE_PAGE_SIZE)
    # The bell's count came with the organization's query.
    assert f'<span class="bell-count">{size}</span>' in html


def test_a_large_organization_points_to_the_full_list(
    alice: Any, team: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contacts.views import detail

    monkeypatch.setattr(detail, "ORGANIZATION_PEOPLE_SHOWN", 2)
    organization = OrganizationFactory(team=team, name="Big & Co")
    for _ in range(3):
        ContactFactory(team=team, organization=organization)

    page = client_for(alice).get(reverse("contacts:organization_detail", args=[organization.pk])).content.decode()

    assert "Showing the first 2." in page
    assert "?organization=Big%20%26%20Co" in page


def test_people_names_and_titles_are_escaped(organization: Any, team: Any, alice: Any, client_for: Any):
    person = ContactFactory(
        team=team, organization=organization, display_name="<script>x()</script>", title="<b>Boss</b> & co"
    )

    html = client_for(alice).get(_url(organization)).content.decode()

    people = html.split('<ul class="people-list">', 1)[1].split("</ul>", 1)[0]
    assert (
        f'<a href="{reverse("contacts:detail", kwargs={"pk": person.pk})}">&lt;script&gt;x()&lt;/script&gt;</a>'
        in people
    )
    assert '<span class="muted">&lt;b&gt;Boss&lt;/b&gt; &amp; co</span>' in people
    assert "<script" not in people and "<b>" not in people
