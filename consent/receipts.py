"""Consent receipts: one ledger event as JSON in the Kantara Initiative Consent Receipt
Specification (v1.1) shape, for the person (or the DPO) to keep.

Withheld attributes stay out: when the person withholds their email, the principal is
identified by the contact's id only. ``consent/schemas/kantara_consent_receipt_v1.1.json``
describes what we issue (the tests validate receipts against it); what the specification
has no field for (the ledger action, lawful basis, purpose code, notice version) is under
``extension``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from consent.models import ConsentEvent, LawfulBasis
from contacts.models import ContactMethod
from contacts.registry import contact_privacy

RECEIPT_VERSION = "KI-CR-v1.1.0"

# Kantara consentType values: consent given by an affirmative act is EXPLICIT; processing
# on another lawful basis is recorded as NOT-APPLICABLE, the spec's value for "no consent".
_CONSENT_TYPE = {LawfulBasis.CONSENT: "EXPLICIT"}


def _principal_id(event: ConsentEvent) -> str:
    if contact_privacy(event.contact).shows("email"):
        email = (
            ContactMethod.objects.filter(contact=event.contact, kind=ContactMethod.Kind.EMAIL)
            .order_by("-is_primary", "id")
            .values_list("value", flat=True)
            .first()
        )
        if email:
            return email
    return f"contact:{event.contact_id}"


def consent_receipt(event: ConsentEvent) -> dict[str, Any]:
    """The receipt for ``event`` (JSON-safe)."""
    purpose = event.purpose
    # A structured address, as the specification asks (schema.org PostalAddress keys).
    address = {"streetAddress": settings.PRIVACY_CONTROLLER_ADDRESS}
    if settings.PRIVACY_CONTROLLER_COUNTRY:
        address["addressCountry"] = settings.PRIVACY_CONTROLLER_COUNTRY
    controller = {
        "piiController": settings.PRIVACY_CONTROLLER_NAME,
        "onBehalf": False,
        "contact": settings.PRIVACY_CONTROLLER_CONTACT,
        "address": address,
        "email": settings.PRIVACY_CONTROLLER_EMAIL,
        "phone": settings.PRIVACY_CONTROLLER_PHONE,
        "piiControllerUrl": settings.SITE_URL,
    }
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": settings.PRIVACY_JURISDICTION,
        "consentTimestamp": int(event.occurred_at.timestamp()),
        "collectionMethod": event.get_source_display(),
        "consentReceiptID": str(event.receipt_id),
        "publicKey": "",
        "language": "en",
        "piiPrincipalId": _principal_id(event),
        "piiControllers": [controller],
        "policyUrl": settings.PRIVACY_POLICY_URL or settings.SITE_URL + reverse("home"),
        "services": [
            {
                "service": settings.PRIVACY_CONTROLLER_NAME,
                "purposes": [
                    {
                        "purpose": purpose.description,
                        "purposeCategory": [purpose.name],
                        "consentType": _CONSENT_TYPE.get(LawfulBasis(event.lawful_basis), "NOT-APPLICABLE"),
                        "piiCategory": [str(category) for category in purpose.data_categories],
                        "primaryPurpose": True,
                        "termination": (
                            f"Withdrawal or objection at any time; data held only for this purpose is "
                            f"deleted after {purpose.retention_days} days."
                        ),
                        # No third party receives it (thirdPartyName is only given when one does).
                        "thirdPartyDisclosure": False,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        # Not Kantara fields: what this receipt records, for people reading it.
        "extension": {
            "action": event.action,
            "lawfulBasis": event.lawful_basis,
            "purposeCode": purpose.code,
            "noticeVersion": event.notice_version,
        },
    }
