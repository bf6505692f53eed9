"""What the consent pages write to the audit trail: views, preference changes, DPO decisions.

Audit rows carry ids only: these tests also check that no value the person or staff typed
reaches any column of the rows written.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from consent.models import ConsentEvent, Purpose
from socialcrm.audit.models import AuditEvent
from socialcrm.audit.registry import Action, is_registered
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

SECRETS = ("Rosa", "Parkes", "rosa@client.example", "R. P.", "Balancing test")


@pytest.fixture
def contact(team: Any) -> Any:
    return ContactFactory(team=team, first_name="Rosa", last_name="Parkes", email="rosa@client.example")


def _new_events(before: int) -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.filter(pk__gt=before)
        .order_by("id")
        .values_list("actor_id", "action", "object_type", "object_id")
    )


def _last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _no_personal_data(before: int) -> None:
    for row in AuditEvent.objects.filter(pk__gt=before).values():
        text = " ".join(str(value) for value in row.values())
        assert not any(secret in text for secret in SECRETS), row


@pytest.mark.parametrize("name", ["consent:contact_consent", "consent:preferences"])
def test_opening_a_consent_page_is_one_view_of_the_contact(
    name: str, contact: Any, alice: Any, client_for: Any
) -> None:
    client = client_for(alice)  # signing in is audited too: count from here
    before = _last_id()
    response = client.get(reverse(name, kwargs={"pk": contact.pk}))
    assert response.status_code == 200
    assert _new_events(before) == [(alice.pk, "contact.viewed", "contact", str(contact.pk))]


def test_downloading_a_receipt_is_one_export_of_the_contact(
    contact: Any, bob: Any, client_for: Any, record: Any
) -> None:
    event: ConsentEvent = record(contact, "marketing_email", "grant")
    client = client_for(bob)
    before = _last_id()
    response = client.get(reverse("consent:receipt", kwargs={"receipt_id": event.receipt_id}))
    assert response.status_code == 200
    assert _new_events(before) == [(bob.pk, "contact.exported", "contact", str(contact.pk))]
    _no_personal_data(before)


def test_a_preference_change_is_audited_with_ids_only(contact: Any, alice: Any, client_for: Any) -> None:
    client = client_for(alice)
    before = _last_id()
    response = client.post(
        reverse("consent:preferences", kwargs={"pk": contact.pk}),
        {"use_pseudonym": "on", "pseudonym": "R. P.", "withheld_attributes": ["email"], "do_not_contact": "on"},
    )
    assert response.status_code == 302
    assert _new_events(before) == [(alice.pk, "preference.changed", "contact", str(contact.pk))]
    _no_personal_data(before)


def test_a_purpose_edit_and_an_assessment_are_dpo_decisions_with_ids_only(dpo: Any, client_for: Any) -> None:
    purpose = Purpose.objects.get(code="enrichment")
    form = {
        "name": purpose.name,
        "description": purpose.description,
        "lawful_basis": purpose.lawful_basis,
        "retention_days": "120",
        "data_categories": ", ".join(purpose.data_categories),
        "active": "on",
    }
    url = reverse("consent:purpose_edit", kwargs={"code": purpose.code})
    client = client_for(dpo)
    before = _last_id()
    assert client.post(url, form).status_code == 302
    assert client.post(url, {**form, "lia_summary": "Balancing test: low impact."}).status_code == 302
    decision = (dpo.pk, "dpo.decision", "purpose", str(purpose.pk))
    assert _new_events(before) == [decision, decision]
    _no_personal_data(before)


def test_the_erasure_action_is_registered_for_the_erasure_to_come() -> None:
    assert Action.CONTACT_ERASED == "contact.erased"
    assert is_registered("contact.erased")
