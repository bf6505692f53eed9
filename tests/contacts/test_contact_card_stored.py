"""The contact page's contact query is compiled once per shape (``socialcrm.stored_queries``):
what the stored SQL answers still follows the visibility rule, the user's teams and roles,
and the time of each request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from contacts.context_processors import bell_prefetch
from contacts.models import Reminder
from contacts.registry import contact_panel_prefetches, contact_panel_prefetches_shape
from contacts.selectors import contact_card_get
from contacts.selectors_reminders import REMINDERS_ANNOTATION
from socialcrm import roles
from socialcrm.models import User
from socialcrm.stored_queries import StoredQueries
from tests.factories import ContactFactory, ReminderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours(team: Any, alice: Any) -> Any:
    return ContactFactory(team=team, owner=alice)


@pytest.fixture
def theirs(other_team: Any, charlie: Any) -> Any:
    return ContactFactory(team=other_team, owner=charlie)


def _detail(contact: Any) -> str:
    return reverse("contacts:detail", kwargs={"pk": contact.pk})


def _card(user: User, pk: int) -> Any:
    """The contact page's card query for ``user`` (a fresh user object: roles and teams read anew)."""
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=user.pk)
    return contact_card_get(
        user=request.user,
        pk=pk,
        annotations=lambda: {**contact_panel_prefetches(request), **bell_prefetch(request)},
        annotations_shape=contact_panel_prefetches_shape(),
    ).contact


def test_another_teams_contact_is_404_with_the_query_stored(
    alice: Any, charlie: Any, ours: Any, theirs: Any, client_for: Any
) -> None:
    client = client_for(alice)
    assert client.get(_detail(ours)).status_code == 200
    # The same user's shape again: the stored SQL, with the other contact's id.
    assert client.get(_detail(theirs)).status_code == 404
    charlies = client_for(charlie)
    assert charlies.get(_detail(theirs)).status_code == 200
    assert charlies.get(_detail(ours)).status_code == 404


def test_the_stored_query_follows_a_change_of_team(
    bob: Any, team: Any, other_team: Any, ours: Any, theirs: Any
) -> None:
    assert _card(bob, ours.pk) == ours
    team.members.remove(bob)
    other_team.members.add(bob)
    with pytest.raises(Http404):
        _card(bob, ours.pk)
    assert _card(bob, theirs.pk) == theirs


def test_the_stored_query_follows_a_change_of_role(alice: Any, ours: Any, theirs: Any) -> None:
    assert _card(alice, ours.pk) == ours
    with pytest.raises(Http404):
        _card(alice, theirs.pk)
    alice.groups.add(Group.objects.get(name=roles.Role.DPO.value))
    assert _card(alice, theirs.pk) == theirs


def test_the_stored_query_takes_the_time_of_each_request(alice: Any, ours: Any) -> None:
    now = timezone.now()
    ReminderFactory(
        contact=ours,
        assignee=alice,
        status=Reminder.Status.DONE,
        due_at=now - timedelta(days=30),
        completed_at=now - timedelta(days=29),
    )
    ReminderFactory(contact=ours, assignee=alice, due_at=now + timedelta(hours=1))
    with time_machine.travel(now, tick=False):
        card = _card(alice, ours.pk)
    # The panel shows reminders done within 30 days; the bell counts those due.
    assert len(card.__dict__[REMINDERS_ANNOTATION]) == 2
    assert card.reminder_bell_due_count == 0
    with time_machine.travel(now + timedelta(days=2), tick=False):
        card = _card(alice, ours.pk)
    assert len(card.__dict__[REMINDERS_ANNOTATION]) == 1
    assert card.reminder_bell_due_count == 1


def test_a_stored_query_must_filter_by_primary_key(ours: Any) -> None:
    stored = StoredQueries(type(ours))
    with pytest.raises(ValueError, match="primary key"):
        stored.first("any", lambda pk: type(ours).objects.all(), ours.pk)
