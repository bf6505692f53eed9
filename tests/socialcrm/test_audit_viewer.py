"""The DPO's audit viewer: who may see it, its filters, paging and query budget."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from socialcrm.audit.models import AuditEvent
from socialcrm.audit.registry import Action
from socialcrm.audit.selectors import PAGE_SIZE
from socialcrm.audit.services import audit_record, audit_record_many, event_spec
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("audit:events")


def _shown(response: Any) -> list[int]:
    """Ids of the events listed on the page, in order."""
    return [int(pk) for pk in re.findall(r'<tr id="event-(\d+)">', response.content.decode())]


def _view(actor: Any, contact_id: int, action: str = Action.CONTACT_VIEWED) -> AuditEvent:
    return audit_record(actor=actor, action=action, object_type="contact", object_id=contact_id)


# --- who may use it -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "mona"])
def test_sales_and_managers_are_refused(who: str, request: pytest.FixtureRequest, client_for: Any):
    assert client_for(request.getfixturevalue(who)).get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(db: None, client_for: Any):
    response = client_for(None).get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


@pytest.mark.parametrize("who", ["dpo", "admin"])
def test_dpo_and_admin_see_the_trail(who: str, request: pytest.FixtureRequest, alice: Any, client_for: Any):
    event = _view(alice, 11)

    response = client_for(request.getfixturevalue(who)).get(URL)

    assert response.status_code == 200
    assert event.pk in _shown(response)
    html = response.content.decode()
    assert "Alice Archer" in html
    assert "contact #11" in html
    assert "Contact viewed" in html


def test_the_audit_nav_item_is_for_the_dpo_only(dpo: Any, alice: Any, mona: Any, client_for: Any):
    link = f'href="{URL}"'

    assert link in client_for(dpo).get(reverse("home")).content.decode()
    assert link not in client_for(alice).get(reverse("home")).content.decode()
    assert link not in client_for(mona).get(reverse("home")).content.decode()


def test_each_page_view_is_itself_audited_once(dpo: Any, client_for: Any):
    client = client_for(dpo)

    client.get(URL)
    client.get(URL, {"action": Action.CONTACT_VIEWED}, headers={"HX-Request": "true"})

    events = AuditEvent.objects.filter(action=Action.AUDIT_VIEWED)
    assert [(event.actor_id, event.object_type) for event in events] == [(dpo.pk, ""), (dpo.pk, "")]


# --- filters ----------------------------------------------------------------------------------


def test_filter_by_contact_answers_who_viewed_or_exported_that_person(dpo: Any, alice: Any, bob: Any, client_for: Any):
    viewed = _view(alice, 11)
    exported = _view(bob, 11, Action.CONTACT_EXPORTED)
    _view(alice, 22)
    audit_record(actor=alice, action=Action.ROLE_CHANGED, object_type="user", object_id=11)

    response = client_for(dpo).get(URL, {"contact": 11})

    assert _shown(response) == [exported.pk, viewed.pk]


def test_filter_by_object_type_and_id(dpo: Any, alice: Any, client_for: Any):
    role = audit_record(actor=alice, action=Action.ROLE_CHANGED, object_type="user", object_id=11)
    _view(alice, 11)

    response = client_for(dpo).get(URL, {"object_type": "user", "object_id": "11"})

    assert _shown(response) == [role.pk]


def test_filter_by_actor(dpo: Any, alice: Any, bob: Any, client_for: Any):
    mine = _view(alice, 11)
    _view(bob, 11)

    response = client_for(dpo).get(URL, {"actor": alice.pk, "object_type": "contact"})

    assert _shown(response) == [mine.pk]


def test_filter_by_action(dpo: Any, alice: Any, client_for: Any):
    _view(alice, 11)
    exported = _view(alice, 11, Action.CONTACT_EXPORTED)

    response = client_for(dpo).get(URL, {"action": Action.CONTACT_EXPORTED})

    assert _shown(response) == [exported.pk]


def test_filter_by_date_range_includes_both_days(dpo: Any, alice: Any, client_for: Any):
    events = {}
    for day, hour in [(9, 23), (10, 0), (20, 23), (21, 0)]:
        with time_machine.travel(datetime(2025, 1, day, hour, 30, tzinfo=UTC), tick=False):
            events[day] = _view(alice, day)
    client = client_for(dpo)

    both = client.get(URL, {"since": "2025-01-10", "until": "2025-01-20", "object_type": "contact"})
    since = client.get(URL, {"since": "2025-01-20", "object_type": "contact"})
    until = client.get(URL, {"until": "2025-01-09", "object_type": "contact"})

    assert _shown(both) == [events[20].pk, events[10].pk]
    assert _shown(since) == [events[21].pk, events[20].pk]
    assert _shown(until) == [events[9].pk]


def test_filter_by_request_lists_everything_one_request_did(dpo: Any, alice: Any, client_for: Any):
    client = client_for(alice)
    client.post(reverse("account_logout"))
    signed_in = client.post(reverse("account_login"), {"login": alice.email, "password": TEST_PASSWORD})
    _view(alice, 11)

    response = client_for(dpo).get(URL, {"request_id": signed_in["X-Request-ID"]})

    login = AuditEvent.objects.get(action=Action.USER_LOGIN, request_id=signed_in["X-Request-ID"])
    assert _shown(response) == [login.pk]
    assert f'href="?request_id={login.request_id}"' in response.content.decode()


def test_contact_objects_link_to_the_contact_filter(dpo: Any, alice: Any, client_for: Any):
    _view(alice, 11)

    response = client_for(dpo).get(URL)

    assert '<a href="?contact=11">contact #11</a>' in response.content.decode()


def test_an_invalid_filter_shows_the_error_and_no_events(dpo: Any, alice: Any, client_for: Any):
    _view(alice, 11)

    response = client_for(dpo).get(URL, {"contact": "grace", "since": "yesterday"})

    assert response.status_code == 200
    assert _shown(response) == []
    assert "Enter a whole number." in response.content.decode()
    assert "Enter a valid date." in response.content.decode()


# --- paging and budget --------------------------------------------------------------------------


def _bulk(actor: Any, count: int) -> list[AuditEvent]:
    # One append: every event shares the same occurred_at, so the id breaks the ties.
    return audit_record_many(
        [
            event_spec(actor=actor, action=Action.CONTACT_VIEWED, object_type="contact", object_id=index + 1)
            for index in range(count)
        ]
    )


def test_pages_follow_the_keyset_without_gaps_or_repeats(dpo: Any, alice: Any, client_for: Any):
    events = _bulk(alice, PAGE_SIZE + 5)
    newest_first = [event.pk for event in reversed(events)]
    client = client_for(dpo)

    first = client.get(URL, {"object_type": "contact"})
    more = re.search(r'<a href="\?([^"]+)"\s+hx-get', first.content.decode())
    assert more is not None
    second = client.get(f"{URL}?{more.group(1).replace('&amp;', '&')}", headers={"HX-Request": "true"})

    assert _shown(first) == newest_first[:PAGE_SIZE]
    assert _shown(second) == newest_first[PAGE_SIZE:]
    assert "object_type=contact" in more.group(1)
    # The htmx request gets the rows only, and the last page has no "older" link.
    assert "<h1>" not in second.content.decode()
    assert "Older events" not in second.content.decode()


@pytest.mark.parametrize("size", [2, 40])
def test_the_viewer_runs_a_constant_number_of_queries(
    size: int, dpo: Any, client_for: Any, django_assert_max_num_queries: Any
):
    for _ in range(size):
        actor = UserFactory()
        _view(actor, actor.pk)
        _view(None, actor.pk, Action.CONTACT_EXPORTED)
    client = client_for(dpo)
    # 1 session, 2 user, 3 roles (groups), 4 the actor filter's value (first request only),
    # 5 page with actors joined, 6 last audit hash, 7 audit INSERT (this page view),
    # 8 actor choices for the filter form; 9 the advisory lock on PostgreSQL.
    with django_assert_max_num_queries(9):
        response = client.get(URL, {"actor": dpo.pk})
    total = AuditEvent.objects.count()
    with django_assert_max_num_queries(9):
        response = client.get(URL)
    assert response.status_code == 200
    assert len(_shown(response)) == min(total, PAGE_SIZE)
    assert total > 2 * size
