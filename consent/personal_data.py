"""The consent app's personal data about a contact: its ledger, states and preferences.

Registered as a personal-data holder in ``ConsentConfig.ready()``. Erasure runs inside
the erasure session (consent/erasure.py), the only way ledger rows may be deleted.
"""

from __future__ import annotations

from typing import Any

from consent.models import ConsentEvent, ConsentState, PrivacyPreference
from consent.services import consent_events_erase
from contacts.models import Contact

PERSONAL_DATA_MODELS = (ConsentEvent, ConsentState, PrivacyPreference)


def export_consent(contact: Contact) -> dict[str, Any]:
    """The contact's consent ledger, current states and preferences, JSON-safe."""
    events = ConsentEvent.objects.filter(contact=contact).select_related("purpose").order_by("occurred_at", "id")
    states = ConsentState.objects.filter(contact=contact).select_related("purpose").order_by("purpose__code")
    preference = PrivacyPreference.objects.filter(contact=contact).first()
    return {
        "consent_events": [
            {
                "receipt_id": str(event.receipt_id),
                "purpose": event.purpose.code,
                "action": event.action,
                "lawful_basis": event.lawful_basis,
                "source": event.source,
                "evidence": event.evidence,
                "notice_version": event.notice_version,
                "occurred_at": event.occurred_at.isoformat(),
            }
            for event in events
        ],
        "consent_states": [
            {
                "purpose": state.purpose.code,
                "consent": state.consent,
                "lawful_basis": state.lawful_basis,
                "objected": state.objected,
                "restricted": state.restricted,
                "since": state.since.isoformat(),
            }
            for state in states
        ],
        "privacy_preferences": None
        if preference is None
        else {
            "identify_by": preference.identify_by,
            "pseudonym": preference.pseudonym,
            "withheld_attributes": preference.withheld_attributes,
            "unlinked_networks": preference.unlinked_networks,
            "business_functions": preference.business_functions,
            "allowed_analytics": preference.allowed_analytics,
            "do_not_contact": preference.do_not_contact,
        },
    }


def erase_consent(contact: Contact) -> None:
    consent_events_erase(contact)
