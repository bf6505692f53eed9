"""Demo consent histories and privacy preferences for the demo team's contacts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from consent.models import ConsentEvent, LawfulBasis, Purpose
from consent.services import consent_record, preference_update
from contacts.models import Contact
from socialcrm.registry import DemoContext

Action = ConsentEvent.Action
Source = ConsentEvent.Source

# (contact index, purpose code, action, source, evidence, days ago), oldest first per contact.
HISTORY = [
    (0, "marketing_email", Action.GRANT, Source.FORM, "Newsletter sign-up form on the website.", 200),
    (0, "offer_targeting", Action.GRANT, Source.FORM, "Ticked 'tailored offers' on the sign-up form.", 200),
    (1, "marketing_email", Action.GRANT, Source.EMAIL, "Replied 'yes please' to the invitation email.", 150),
    (1, "marketing_email", Action.WITHDRAW, Source.EMAIL, "Clicked unsubscribe in the March newsletter.", 20),
    (2, "marketing_email", Action.OBJECT, Source.PHONE, "Asked on the phone to receive no marketing at all.", 12),
    (3, "sentiment_analysis", Action.GRANT, Source.PORTAL, "Agreed in the privacy portal.", 60),
    (4, "enrichment", Action.RESTRICT, Source.EMAIL, "Disputes the accuracy of a linked profile.", 5),
]


def load_demo_consent(context: DemoContext) -> None:
    """Consent histories and preferences on the first demo contacts (once)."""
    contacts = list(Contact.objects.filter(team=context.team).order_by("id")[:6])
    if not contacts:
        context.say("  no demo contacts yet; no consent history added.")
        return
    if ConsentEvent.objects.filter(contact__in=contacts).exists():
        context.say("  the demo contacts already have consent records; left as they are.")
        return
    purposes = {purpose.code: purpose for purpose in Purpose.objects.all()}
    now = timezone.now()
    recorded = 0
    for index, code, action, source, evidence, days_ago in HISTORY:
        if index >= len(contacts):
            continue
        consent_record(
            actor=context.sales,
            contact=contacts[index],
            purpose=purposes[code],
            action=action,
            lawful_basis=LawfulBasis.CONSENT if action in {Action.GRANT, Action.WITHDRAW} else None,
            source=source,
            evidence=evidence,
            notice_version="2026-01",
            occurred_at=now - timedelta(days=days_ago),
        )
        recorded += 1
    preferences: list[dict[str, Any]] = [
        {"identify_by": "pseudonym", "pseudonym": "R. Walker", "withheld_attributes": ["phone", "location"]},
        {"do_not_contact": True, "business_functions": ["customer_service", "support"]},
        {"unlinked_networks": ["github", "bluesky"], "allowed_analytics": []},
    ]
    for contact, overrides in zip(contacts[3:], preferences, strict=False):
        settings: dict[str, Any] = {
            "identify_by": "name",
            "pseudonym": "",
            "withheld_attributes": [],
            "unlinked_networks": [],
            "business_functions": ["marketing", "sales", "customer_service", "support"],
            "allowed_analytics": ["sentiment", "offer_targeting", "influence"],
            "do_not_contact": False,
            **overrides,
        }
        preference_update(actor=context.sales, contact=contact, **settings)
    context.say(f"  {recorded} consent records, preferences on {min(3, max(0, len(contacts) - 3))} contacts")
