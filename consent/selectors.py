"""Reads of the consent app, scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from consent.models import ConsentEvent, ConsentState, LawfulBasis, PrivacyPreference, Purpose
from contacts.models import Contact
from contacts.registry import ContactBadge, ContactPrivacy, contact_privacy_for
from contacts.selectors import visible_contacts

RECENT_CHANGES = 20
HISTORY_ROWS = 10


def purpose_list() -> QuerySet[Purpose]:
    """The catalogue (every staff member may read it: it is what people are told)."""
    return Purpose.objects.all()


def purpose_get(*, code: str) -> Purpose:
    purpose = Purpose.objects.filter(code=code).first()
    if purpose is None:
        raise Http404("No such purpose.")
    return purpose


def consent_event_get(*, user: Any, receipt_id: str) -> ConsentEvent:
    """A ledger event whose contact ``user`` may see; Http404 otherwise."""
    event = (
        ConsentEvent.objects.select_related("purpose", "contact", "recorded_by")
        .filter(receipt_id=receipt_id, contact__in=visible_contacts(user))
        .first()
    )
    if event is None:
        raise Http404("No such consent record.")
    return event


def privacy_rules_for(contacts: Iterable[Contact]) -> dict[int, ContactPrivacy]:
    """Pseudonyms and withheld attributes for ``contacts``, in one query.

    Registered as ``contacts.registry.contact_privacy_for``'s provider; contacts without
    a preference row have no rules and are left out.
    """
    ids = [contact.pk for contact in contacts]
    rows = PrivacyPreference.objects.filter(contact_id__in=ids).values(
        "contact_id", "identify_by", "pseudonym", "withheld_attributes"
    )
    return {
        row["contact_id"]: ContactPrivacy(
            display_name=row["pseudonym"] if row["identify_by"] == PrivacyPreference.IdentifyBy.PSEUDONYM else "",
            withheld=frozenset(row["withheld_attributes"] or ()),
        )
        for row in rows
    }


def withheld_fields(contact: Contact) -> frozenset[str]:
    """The attributes ``contact`` withholds from staff views and exports."""
    return contact_privacy_for([contact])[contact.pk].withheld


def unlinked_networks(contact: Contact) -> frozenset[str]:
    """Networks (``consent.models.Network`` values) enrichment must not link for ``contact``."""
    networks = PrivacyPreference.objects.filter(contact=contact).values_list("unlinked_networks", flat=True).first()
    return frozenset(networks or ())


def preference_for(contact: Contact) -> PrivacyPreference:
    """The contact's preferences, or an unsaved row holding the defaults."""
    return PrivacyPreference.objects.filter(contact=contact).first() or PrivacyPreference(contact=contact)


@dataclass(frozen=True)
class PanelRow:
    purpose: Purpose
    state: ConsentState | None
    allowed: bool
    reason: str
    basis: str


def consent_panel_rows(contact: Contact) -> list[PanelRow]:
    """Each active purpose with the contact's state and the gate's decision (three queries)."""
    from consent.gate import decisions_for_contact

    states = {state.purpose_id: state for state in ConsentState.objects.filter(contact=contact)}
    decisions = decisions_for_contact(contact)
    return [
        PanelRow(
            purpose=purpose,
            state=states.get(purpose.pk),
            allowed=decisions[purpose.code].allowed,
            reason=decisions[purpose.code].reason,
            basis=LawfulBasis(decisions[purpose.code].basis or purpose.lawful_basis).label,
        )
        for purpose in Purpose.objects.filter(active=True)
    ]


def consent_history(contact: Contact, limit: int = HISTORY_ROWS) -> list[ConsentEvent]:
    """The contact's latest ledger events, newest first (for receipts)."""
    return list(ConsentEvent.objects.filter(contact=contact).select_related("purpose", "recorded_by")[:limit])


_BADGE_TONES = {"granted": "success", "withdrawn": "warning", "objected": "danger", "restricted": "danger"}


def consent_badges_for(contacts: Iterable[Contact]) -> dict[int, list[ContactBadge]]:
    """Consent badges for a page of contacts in one query (registered with contacts.registry).

    One badge per purpose that has a state: objected / restricted win over the consent.
    """
    from consent.gate import purposes

    names = {info.id: info.name for info in purposes().values()}
    rows = ConsentState.objects.filter(contact_id__in=[contact.pk for contact in contacts]).values_list(
        "contact_id", "purpose_id", "consent", "objected", "restricted"
    )
    badges: dict[int, list[ContactBadge]] = {}
    for contact_id, purpose_id, consent, objected, restricted in rows:
        status = "objected" if objected else "restricted" if restricted else consent
        if not status:
            continue
        name = names.get(purpose_id, "")
        badges.setdefault(contact_id, []).append(
            ContactBadge(label=f"{name}: {status}", title=f"Consent state for {name}", tone=_BADGE_TONES[status])
        )
    for contact_badges in badges.values():
        contact_badges.sort(key=lambda badge: badge.label)
    return badges


@dataclass(frozen=True)
class PurposeCounts:
    purpose: Purpose
    granted: int
    withdrawn: int
    objected: int
    restricted: int


@dataclass(frozen=True)
class UnassessedPurpose:
    purpose: Purpose
    contacts: int


@dataclass(frozen=True)
class RecentChange:
    event: ConsentEvent
    contact_name: str


@dataclass(frozen=True)
class ConsoleOverview:
    counts: list[PurposeCounts]
    recent: list[RecentChange]
    unassessed: list[UnassessedPurpose]


def console_overview() -> ConsoleOverview:
    """The DPO console's figures: four queries plus one count per unassessed purpose."""
    purposes = list(Purpose.objects.all())
    counts: dict[int, dict[str, Any]] = {
        row["purpose_id"]: dict(row)
        for row in ConsentState.objects.values("purpose_id").annotate(
            granted=Count("pk", filter=Q(consent=ConsentState.Consent.GRANTED)),
            withdrawn=Count("pk", filter=Q(consent=ConsentState.Consent.WITHDRAWN)),
            objected=Count("pk", filter=Q(objected=True)),
            restricted=Count("pk", filter=Q(restricted=True)),
        )
    }
    recent = list(
        ConsentEvent.objects.filter(action__in=[ConsentEvent.Action.WITHDRAW, ConsentEvent.Action.OBJECT])
        .select_related("purpose", "contact", "recorded_by")
        .order_by("-occurred_at", "-id")[:RECENT_CHANGES]
    )
    unassessed = []
    marketing = [purpose.pk for purpose in purposes if purpose.is_direct_marketing]
    for purpose in purposes:
        if not (purpose.active and purpose.needs_assessment):
            continue
        # The gate's objection rules, in SQL: the count is of contacts the purpose may reach
        # (preferences aside, so it is an upper bound).
        blocking = Q(purpose=purpose) & (
            Q(objected=True) | Q(restricted=True) | Q(consent=ConsentState.Consent.WITHDRAWN)
        )
        if purpose.is_direct_marketing or purpose.is_profiling:
            blocking |= Q(purpose_id__in=marketing, objected=True)
        blocked = ConsentState.objects.filter(blocking, contact=OuterRef("pk"))
        unassessed.append(UnassessedPurpose(purpose, Contact.objects.exclude(Exists(blocked)).count()))
    privacy = contact_privacy_for(event.contact for event in recent)
    return ConsoleOverview(
        counts=[
            PurposeCounts(
                purpose=purpose,
                granted=counts.get(purpose.pk, {}).get("granted", 0),
                withdrawn=counts.get(purpose.pk, {}).get("withdrawn", 0),
                objected=counts.get(purpose.pk, {}).get("objected", 0),
                restricted=counts.get(purpose.pk, {}).get("restricted", 0),
            )
            for purpose in purposes
        ],
        recent=[RecentChange(event, privacy[event.contact_id].name_for(event.contact)) for event in recent],
        unassessed=unassessed,
    )
