"""The current state follows when things happened, not the order staff recorded them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import gate
from consent.models import ConsentEvent, ConsentState
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ACTIONS = [choice.value for choice in ConsentEvent.Action]


def _state(contact: Any, code: str) -> tuple[Any, ...]:
    state = ConsentState.objects.get(contact=contact, purpose__code=code)
    return (state.consent, state.lawful_basis, state.objected, state.restricted, state.since, state.source)


def test_a_backdated_grant_does_not_undo_a_later_withdrawal(team: Any, record: Any) -> None:
    contact = ContactFactory(team=team)
    record(contact, "marketing_email", "withdraw")
    backdated = record(contact, "marketing_email", "grant", occurred_at=timezone.now() - timedelta(days=100))
    state = ConsentState.objects.get(contact=contact, purpose=backdated.purpose)
    assert state.consent == "withdrawn"
    assert state.last_event.action == "withdraw"
    assert not gate.allows(contact, "marketing_email").allowed


# Up to six events on distinct days (ties are broken by id, i.e. by recording order).
dated_events = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.sampled_from(["email", "phone"])), min_size=1, max_size=6
).flatmap(lambda events: st.permutations(list(enumerate(events))).map(lambda order: (events, order)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=dated_events)
def test_any_recording_order_of_the_same_dated_events_gives_the_same_state(
    case: tuple[list[tuple[str, str]], list[tuple[int, tuple[str, str]]]], team: Any, record: Any
) -> None:
    events, shuffled = case
    start = timezone.now() - timedelta(days=30)
    outcomes = []
    for order in (list(enumerate(events)), shuffled):
        contact = ContactFactory(team=team)
        for day, (action, source) in order:
            record(contact, "offer_targeting", action, source=source, occurred_at=start + timedelta(days=day))
        outcomes.append((_state(contact, "offer_targeting"), gate.allows(contact, "offer_targeting")))
    assert outcomes[0] == outcomes[1], case
