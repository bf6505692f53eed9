"""The timeline queries and the organization page's organization query are compiled once per
shape (``socialcrm.stored_queries``): what the stored SQL answers still follows the
visibility rule, the user's teams and roles, the kinds filter and the keyset cursor of each
request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.http import Http404
from django.urls import reverse

from contacts.models import Activity
from contacts.selectors import organization_get, organization_timeline_page, timeline_page
from socialcrm import roles
from socialcrm.models import User
from socialcrm.pagination import TimeCursor
from tests.factories import ActivityFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

BASE = datetime(2025, 2, 1, tzinfo=UTC)


@pytest.fixture
def organization(team: Any) -> Any:
    return OrganizationFactory(team=team)


@pytest.fixture
def ours(team: Any, organization: Any) -> Any:
    return ContactFactory(team=team, organization=organization)


@pytest.fixture
def theirs(other_team: Any, organization: Any) -> Any:
    # Another team's person in our organization: data that should not exist, never shown.
    return ContactFactory(team=other_team, organization=organization)


def _fresh(user: User) -> User:
    """A fresh user object: roles and teams read anew."""
    return User.objects.get(pk=user.pk)


def _subjects(page: Any) -> list[str]:
    return [activity.subject for activity in page.activities]


def test_another_teams_timelines_are_404_with_the_queries_stored(
    alice: Any, charlie: Any, team: Any, other_team: Any, client_for: Any
) -> None:
    ours, theirs = ContactFactory(team=team), ContactFactory(team=other_team)
    our_org, their_org = OrganizationFactory(team=team), OrganizationFactory(team=other_team)
    for contact in (ours, theirs):
        ActivityFactory(contact=contact)
    client = client_for(alice)
    for name, own, other in (("timeline", ours, theirs), ("organization_timeline", our_org, their_org)):
        url = f"contacts:{name}"
        assert client.get(reverse(url, kwargs={"pk": own.pk})).status_code == 200
        assert client.get(reverse(url, kwargs={"pk": other.pk})).status_code == 404
        assert client.get(reverse(url, kwargs={"pk": other.pk}), {"before": f"{10**16}_1"}).status_code == 404
        assert client_for(charlie).get(reverse(url, kwargs={"pk": other.pk})).status_code == 200


def test_another_teams_organization_page_is_404_with_the_query_stored(
    alice: Any, charlie: Any, organization: Any, other_team: Any, client_for: Any
) -> None:
    theirs = OrganizationFactory(team=other_team)

    def url(organization: Any) -> str:
        return reverse("contacts:organization_detail", kwargs={"pk": organization.pk})

    assert client_for(alice).get(url(organization)).status_code == 200
    assert client_for(alice).get(url(theirs)).status_code == 404
    assert client_for(charlie).get(url(theirs)).status_code == 200
    assert client_for(charlie).get(url(organization)).status_code == 404


def test_the_organization_query_follows_a_change_of_team_and_role(
    bob: Any, team: Any, other_team: Any, organization: Any
) -> None:
    theirs = OrganizationFactory(team=other_team)
    assert organization_get(user=_fresh(bob), pk=organization.pk) == organization
    team.members.remove(bob)
    other_team.members.add(bob)
    with pytest.raises(Http404):
        organization_get(user=_fresh(bob), pk=organization.pk)
    assert organization_get(user=_fresh(bob), pk=theirs.pk) == theirs
    bob.groups.add(Group.objects.get(name=roles.Role.DPO.value))
    assert organization_get(user=_fresh(bob), pk=organization.pk) == organization


def test_the_combined_timeline_follows_a_change_of_team(
    bob: Any, team: Any, other_team: Any, organization: Any, ours: Any, theirs: Any
) -> None:
    ActivityFactory(contact=ours, subject="ours")
    ActivityFactory(contact=theirs, subject="theirs")
    assert _subjects(organization_timeline_page(user=_fresh(bob), organization=organization)) == ["ours"]
    team.members.remove(bob)
    other_team.members.add(bob)
    assert _subjects(organization_timeline_page(user=_fresh(bob), organization=organization)) == ["theirs"]


def test_the_combined_timeline_follows_a_change_of_role(alice: Any, organization: Any, ours: Any, theirs: Any) -> None:
    ActivityFactory(contact=ours, subject="ours", occurred_at=BASE)
    ActivityFactory(contact=theirs, subject="theirs", occurred_at=BASE + timedelta(hours=1))
    assert _subjects(organization_timeline_page(user=_fresh(alice), organization=organization)) == ["ours"]
    alice.groups.add(Group.objects.get(name=roles.Role.DPO.value))
    page = organization_timeline_page(user=_fresh(alice), organization=organization)
    assert _subjects(page) == ["theirs", "ours"]


@pytest.mark.parametrize("combined", [False, True], ids=["contact", "organization"])
def test_stored_pages_follow_each_requests_kinds_and_cursor(
    alice: Any, organization: Any, ours: Any, combined: bool
) -> None:
    kinds = [Activity.Kind.CALL, Activity.Kind.NOTE, Activity.Kind.EMAIL]
    # Two entries share each timestamp: the cursor breaks ties on id.
    entries = [
        ActivityFactory(contact=ours, kind=kinds[index % 3], occurred_at=BASE + timedelta(hours=index // 2))
        for index in range(12)
    ]
    newest = sorted(entries, key=lambda entry: (entry.occurred_at, entry.pk), reverse=True)
    another = ContactFactory(team=ours.team, organization=OrganizationFactory(team=ours.team))
    ActivityFactory(contact=another, kind=Activity.Kind.CALL, occurred_at=BASE)

    def page(contact: Any, kinds: list[str] | None, before: TimeCursor | None) -> list[int]:
        if combined:
            return [
                activity.pk
                for activity in organization_timeline_page(
                    user=_fresh(alice), organization=contact.organization, before=before, kinds=kinds, limit=3
                ).activities
            ]
        result = timeline_page(user=_fresh(alice), contact=contact, before=before, kinds=kinds, limit=3)
        return [activity.pk for activity in result.activities]

    # The same shapes run again and again, with other kinds, cursors and owners.
    for chosen in (None, [Activity.Kind.CALL], [Activity.Kind.NOTE], [Activity.Kind.NOTE, Activity.Kind.EMAIL]):
        shown = [entry for entry in newest if chosen is None or entry.kind in chosen]
        for start in range(len(shown)):
            before = None if start == 0 else TimeCursor.of(shown[start - 1])
            assert page(ours, chosen, before) == [entry.pk for entry in shown[start : start + 3]]
        assert len(page(another, chosen, None)) == int(chosen is None or Activity.Kind.CALL in chosen)


def test_the_next_cursor_of_a_stored_page(alice: Any, ours: Any) -> None:
    entries = [ActivityFactory(contact=ours, occurred_at=BASE + timedelta(hours=index)) for index in range(5)]
    first = timeline_page(user=_fresh(alice), contact=ours, limit=2)
    assert first.next_cursor == TimeCursor.of(entries[3])
    second = timeline_page(user=_fresh(alice), contact=ours, before=first.next_cursor, limit=2)
    assert [activity.pk for activity in second.activities] == [entries[2].pk, entries[1].pk]
    last = timeline_page(user=_fresh(alice), contact=ours, before=second.next_cursor, limit=2)
    assert [activity.pk for activity in last.activities] == [entries[0].pk]
    assert last.next_cursor is None
