"""Consent receipts: Kantara consent-receipt fields, present and typed; download access."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.urls import reverse

import consent
from consent.models import ConsentEvent, PrivacyPreference
from consent.receipts import consent_receipt
from socialcrm.audit.models import AuditEvent
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# Kantara Consent Receipt Specification v1.1: required top-level fields and their types.
REQUIRED = {
    "version": str,
    "jurisdiction": str,
    "consentTimestamp": int,
    "collectionMethod": str,
    "consentReceiptID": str,
    "piiPrincipalId": str,
    "piiControllers": list,
    "policyUrl": str,
    "services": list,
    "sensitive": bool,
    "spiCat": list,
}
CONTROLLER = {"piiController": str, "contact": str, "address": dict, "email": str, "phone": str}
SCHEMA = json.loads((Path(consent.__file__).parent / "schemas" / "kantara_consent_receipt_v1.1.json").read_text())
PURPOSE = {
    "purpose": str,
    "purposeCategory": list,
    "consentType": str,
    "piiCategory": list,
    "primaryPurpose": bool,
    "termination": str,
    "thirdPartyDisclosure": bool,
}


def assert_shape(data: dict[str, Any], shape: dict[str, type]) -> None:
    for key, kind in shape.items():
        assert key in data, f"missing {key}"
        assert isinstance(data[key], kind), f"{key} should be {kind.__name__}, is {type(data[key]).__name__}"


@pytest.fixture
def event(team: Any, record: Any) -> ConsentEvent:
    contact = ContactFactory(team=team, email="rosa@client.example")
    return record(contact, "marketing_email", "grant", source=ConsentEvent.Source.FORM, notice_version="2026-01")


def test_a_receipt_has_every_required_field_typed(event: ConsentEvent) -> None:
    receipt = consent_receipt(event)
    assert_shape(receipt, REQUIRED)
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert uuid.UUID(receipt["consentReceiptID"]) == event.receipt_id
    assert receipt["consentTimestamp"] == int(event.occurred_at.timestamp())
    assert receipt["piiPrincipalId"] == "rosa@client.example"
    assert_shape(receipt["piiControllers"][0], CONTROLLER)
    assert receipt["services"] and receipt["services"][0]["purposes"]
    purpose = receipt["services"][0]["purposes"][0]
    assert_shape(purpose, PURPOSE)
    assert purpose["consentType"] == "EXPLICIT"
    assert purpose["purposeCategory"] == ["Marketing email"]
    json.dumps(receipt)  # JSON-safe


def test_a_receipt_validates_against_the_kantara_v1_1_schema(event: ConsentEvent, settings: Any) -> None:
    settings.PRIVACY_CONTROLLER_ADDRESS = "1 Harbour Street, Hamburg"
    settings.PRIVACY_CONTROLLER_COUNTRY = "DE"
    receipt = consent_receipt(event)
    jsonschema.validate(receipt, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert receipt["piiControllers"][0]["address"] == {
        "streetAddress": "1 Harbour Street, Hamburg",
        "addressCountry": "DE",
    }
    assert receipt["extension"] == {
        "action": "grant",
        "lawfulBasis": "consent",
        "purposeCode": "marketing_email",
        "noticeVersion": "2026-01",
    }


@pytest.mark.parametrize(
    "break_it",
    [
        lambda r: r["piiControllers"][0].update(address="1 Harbour Street"),  # address is structured
        lambda r: r["services"][0]["purposes"][0].update(thirdPartyDisclosure=True),  # ...then name them
        lambda r: r.pop("spiCat"),
        lambda r: r.update(action="grant"),  # our own fields go under "extension"
    ],
)
def test_the_schema_refuses_receipts_that_break_the_specification(event: ConsentEvent, break_it: Any) -> None:
    receipt = copy.deepcopy(consent_receipt(event))
    break_it(receipt)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(receipt, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_a_receipt_leaves_out_a_withheld_email(event: ConsentEvent) -> None:
    PrivacyPreference.objects.create(contact=event.contact, withheld_attributes=["email"])
    receipt = consent_receipt(event)
    assert receipt["piiPrincipalId"] == f"contact:{event.contact_id}"
    assert "rosa@client.example" not in json.dumps(receipt)


def test_staff_who_see_the_contact_download_the_receipt_and_it_is_audited(
    event: ConsentEvent, bob: Any, client_for: Any
) -> None:
    response = client_for(bob).get(reverse("consent:receipt", kwargs={"receipt_id": event.receipt_id}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["consentReceiptID"] == str(event.receipt_id)
    audit = AuditEvent.objects.filter(action="contact.exported").latest("id")
    assert (audit.actor_id, audit.object_id) == (bob.pk, str(event.contact_id))


def test_other_teams_get_404_for_the_receipt(event: ConsentEvent, charlie: Any, client_for: Any) -> None:
    response = client_for(charlie).get(reverse("consent:receipt", kwargs={"receipt_id": event.receipt_id}))
    assert response.status_code == 404
