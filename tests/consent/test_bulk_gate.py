"""Batch sweeps ask the gate once per batch (``gate_allowed_ids``), not once per contact,
and still leave out the people it refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import Contact, Reminder
from contacts.registry import gate_allowed_ids
from contacts.services.nudges import awaiting_reply_nudges_make, cadence_nudges_make
from enrichment.models import SocialProfile
from enrichment.tasks import listen_sweep, refresh_stale_profiles
from socialcrm.models import OutboxMessage
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _gate_queries(run: Callable[[], object]) -> int:
    """How many queries read the consent state table (what every gate decision reads)."""
    with CaptureQueriesContext(connection) as captured:
        run()
    return sum("consent_consentstate" in query["sql"] for query in captured.captured_queries)


def _people(team: Any, alice: Any, record: Any, size: int, purpose: str) -> tuple[list[Contact], Contact]:
    """``size`` contacts; the first objected to ``purpose`` (the gate refuses them)."""
    contacts = [ContactFactory(team=team, owner=alice) for _ in range(size)]
    record(contacts[0], purpose, "object")
    return contacts, contacts[0]


@pytest.mark.parametrize(
    ("clock", "sweep"), [("cadence_due_at", cadence_nudges_make), ("reply_due_at", awaiting_reply_nudges_make)]
)
def test_outreach_nudges_ask_the_gate_once_per_batch(
    clock: str, sweep: Callable[[], int], team: Any, alice: Any, record: Any
) -> None:
    counts = []
    for size in (2, 6):
        contacts, refused = _people(team, alice, record, size, "sales_outreach")
        Contact.objects.filter(pk__in=[contact.pk for contact in contacts]).update(
            **{clock: timezone.now() - timedelta(days=1)}
        )
        counts.append(_gate_queries(sweep))
        nudged = set(Reminder.objects.filter(contact__in=contacts).values_list("contact_id", flat=True))
        assert nudged == {contact.pk for contact in contacts} - {refused.pk}
    assert counts == [1, 1]


def _profiles(contacts: list[Contact], **fields: Any) -> None:
    for contact in contacts:
        SocialProfile.objects.create(
            contact=contact,
            network="fediverse",
            provider="fediverse",
            url=f"https://social.example/@{contact.pk}",
            **fields,
        )


@pytest.mark.parametrize(
    ("code", "sweep", "fields", "task"),
    [
        ("enrichment", refresh_stale_profiles, {"fetched_at": timezone.now() - timedelta(days=60)}, "enrich_contact"),
        (
            "social_listening",
            listen_sweep,
            {"status": "accepted", "feeds": ["https://social.example/feed"]},
            "listen_to",
        ),
    ],
)
def test_enrichment_sweeps_ask_the_gate_once_per_batch(
    code: str, sweep: Callable[[], object], fields: dict[str, Any], task: str, team: Any, alice: Any, record: Any
) -> None:
    counts = []
    for size in (2, 6):
        SocialProfile.objects.all().delete()
        OutboxMessage.objects.all().delete()
        contacts, refused = _people(team, alice, record, size, code)
        _profiles(contacts, **fields)
        counts.append(_gate_queries(sweep))
        queued = {message.args[0] for message in OutboxMessage.objects.all() if task in message.task_name}
        assert queued == {contact.pk for contact in contacts} - {refused.pk}
    assert counts == [1, 1]


def test_gate_allowed_ids_leaves_out_refused_and_unknown_ids(team: Any, record: Any) -> None:
    allowed, refused = ContactFactory(team=team), ContactFactory(team=team)
    record(refused, "enrichment", "object")
    assert gate_allowed_ids([allowed.pk, refused.pk, 10**9], "enrichment") == {allowed.pk}
