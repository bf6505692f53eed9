"""Reads of the consent app, scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from consent.gate import (
    ConsentSnapshot,
    PurposeInfo,
    active_purposes,
    decisions_for_contact,
    purposes,
    read_snapshots,
)
from consent.models import ConsentEvent, ConsentState, LawfulBasis, PrivacyPreference, Purpose
from contacts.models import Contact
from contacts.registry import ContactBadge, ContactPrivacy, contact_privacy_for
from contacts.selectors import visible_contacts
from socialcrm.bulk import among

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


# The contact page reads a contact's preferences and states once, for the header card's
# privacy rules, the consent panel and the preferences panel: kept on the contact instance.
_SNAPSHOT_ATTRIBUTE = "_consent_snapshot"


def consent_snapshots(contacts: Iterable[Contact]) -> dict[int, ConsentSnapshot]:
    """Each contact's preference row and consent states: one query for those not read yet,
    then kept on the contact instances for the rest of the request.

    The contact page's header card, consent panel and preferences panel, and a list page's
    names and badges, share one read. The consent services drop it when they change the
    contact's state (``forget_consent_snapshot``). Processing asks the gate instead.
    """
    contacts = list(contacts)
    missing = [contact for contact in contacts if _SNAPSHOT_ATTRIBUTE not in contact.__dict__]
    if missing:
        read = read_snapshots(missing)
        for contact in missing:
            contact.__dict__[_SNAPSHOT_ATTRIBUTE] = read[contact.pk]
    return {contact.pk: contact.__dict__[_SNAPSHOT_ATTRIBUTE] for contact in contacts}


def consent_snapshot(contact: Contact) -> ConsentSnapshot:
    """``consent_snapshots`` for one contact (its page)."""
    return consent_snapshots([contact])[contact.pk]


def forget_consent_snapshot(contact: Contact) -> None:
    contact.__dict__.pop(_SNAPSHOT_ATTRIBUTE, None)


def _privacy(identify_by: str, pseudonym: str, withheld: list[str] | None) -> ContactPrivacy:
    chosen = pseudonym if identify_by == PrivacyPreference.IdentifyBy.PSEUDONYM else ""
    return ContactPrivacy(display_name=chosen, withheld=frozenset(withheld or ()))


def privacy_rules_by_id(contact_ids: Sequence[int]) -> dict[int, ContactPrivacy]:
    """``privacy_rules_for`` from ids (exports): one query on the preference rows alone."""
    rows = PrivacyPreference.objects.filter(among("contact_id", contact_ids)).values_list(
        "contact_id", "identify_by", "pseudonym", "withheld_attributes"
    )
    return {contact_id: _privacy(*rules) for contact_id, *rules in rows}


def privacy_rules_for(contacts: Iterable[Contact]) -> dict[int, ContactPrivacy]:
    """Pseudonyms and withheld attributes for ``contacts``, in one query at most.

    Registered as ``contacts.registry.contact_privacy_for``'s provider; contacts without
    a preference row have no rules and are left out. Read through ``consent_snapshots``,
    which the badges and the contact page's consent panels then reuse.
    """
    rules = {}
    for contact_id, snapshot in consent_snapshots(contacts).items():
        preference = snapshot.preference
        if preference is not None:
            rules[contact_id] = _privacy(preference.identify_by, preference.pseudonym, preference.withheld_attributes)
    return rules


def contacts_withholding(attribute: str) -> QuerySet[Any]:
    """The ids of the contacts who withhold ``attribute``, as a subquery (``contact_id``).

    ``withheld_attributes`` is a JSON array of fixed keys, so the quoted key is in its text
    on every database (SQLite has no JSON containment); few people have preferences.
    """
    return PrivacyPreference.objects.filter(withheld_attributes__icontains=f'"{attribute}"').values("contact_id")


def withheld_fields(contact: Contact) -> frozenset[str]:
    """The attributes ``contact`` withholds from staff views and exports."""
    return contact_privacy_for([contact])[contact.pk].withheld


def unlinked_networks(contact: Contact) -> frozenset[str]:
    """Networks (``consent.models.Network`` values) enrichment must not link for ``contact``."""
    networks = PrivacyPreference.objects.filter(contact=contact).values_list("unlinked_networks", flat=True).first()
    return frozenset(networks or ())


def preference_for(contact: Contact) -> PrivacyPreference:
    """The contact's preferences, or an unsaved row holding the defaults."""
    return consent_snapshot(contact).preference or PrivacyPreference(contact=contact)


@dataclass(frozen=True)
class PanelRow:
    purpose: PurposeInfo
    state: ConsentState | None
    allowed: bool
    reason: str
    basis: str


def consent_panel_rows(contact: Contact) -> list[PanelRow]:
    """Each active purpose with the contact's state and the gate's decision.

    No query of its own beyond ``consent_snapshot`` (purposes come from the gate's cache).
    """
    snapshot = consent_snapshot(contact)
    decisions = decisions_for_contact(contact, snapshot)
    return [
        PanelRow(
            purpose=purpose,
            state=snapshot.states.get(purpose.id),
            allowed=decisions[purpose.code].allowed,
            reason=decisions[purpose.code].reason,
            basis=LawfulBasis(decisions[purpose.code].basis or purpose.lawful_basis).label,
        )
        for purpose in active_purposes()
    ]


def consent_history(contact: Contact, limit: int = HISTORY_ROWS) -> list[ConsentEvent]:
    """The contact's latest ledger events, newest first (for receipts)."""
    return list(ConsentEvent.objects.filter(contact=contact).select_related("purpose", "recorded_by")[:limit])


_BADGE_TONES = {"granted": "success", "withdrawn": "warning", "objected": "danger", "restricted": "danger"}


def consent_badges_for(contacts: Iterable[Contact]) -> dict[int, list[ContactBadge]]:
    """Consent badges for a page of contacts (registered with contacts.registry).

    No query when ``privacy_rules_for`` already read the page's snapshots, else one.

    One badge per purpose that has a state: objected / restricted win over the consent.
    """
    names = {info.id: info.name for info in purposes().values()}
    states = [state for snapshot in consent_snapshots(contacts).values() for state in snapshot.states.values()]
    badges: dict[int, list[ContactBadge]] = {}
    for state in states:
        contact_id, purpose_id = state.contact_id, state.purpose_id
        status = "objected" if state.objected else "restricted" if state.restricted else state.consent
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
    # At most ``UNASSESSED_COUNT_CAP``; ``capped`` means "at least that many".
    contacts: int
    capped: bool


@dataclass(frozen=True)
class RecentChange:
    event: ConsentEvent
    contact_name: str


@dataclass(frozen=True)
class ConsoleOverview:
    counts: list[PurposeCounts]
    counted_at: datetime
    recent: list[RecentChange]
    unassessed: list[UnassessedPurpose]


# Counting every state row is a scan of (contacts x purposes) rows, about 100 ms at 700,000:
# the console shows counts at most this old (kept in the shared cache).
CONSOLE_COUNTS_SECONDS = 60
CONSOLE_COUNTS_KEY = "consent:console:counts"
# "Contacts processed without an assessment" answers "is anyone?", then "1,000+".
UNASSESSED_COUNT_CAP = 1000


def _state_counts() -> tuple[dict[int, dict[str, int]], datetime]:
    """Per purpose id: how many contacts granted, withdrew, objected, restricted (cached)."""
    cached = cache.get(CONSOLE_COUNTS_KEY)
    if cached is None:
        rows = ConsentState.objects.values("purpose_id").annotate(
            granted=Count("pk", filter=Q(consent=ConsentState.Consent.GRANTED)),
            withdrawn=Count("pk", filter=Q(consent=ConsentState.Consent.WITHDRAWN)),
            objected=Count("pk", filter=Q(objected=True)),
            restricted=Count("pk", filter=Q(restricted=True)),
        )
        counts = {
            row["purpose_id"]: {
                "granted": row["granted"],
                "withdrawn": row["withdrawn"],
                "objected": row["objected"],
                "restricted": row["restricted"],
            }
            for row in rows.order_by()
        }
        cached = (counts, timezone.now())
        cache.set(CONSOLE_COUNTS_KEY, cached, CONSOLE_COUNTS_SECONDS)
    return cached


def _unassessed(catalogue: list[Purpose]) -> list[UnassessedPurpose]:
    """Active legitimate-interest purposes without an assessment, with the contacts they may reach.

    The gate's objection rules in SQL (preferences aside, so an upper bound), counted up to
    ``UNASSESSED_COUNT_CAP``: each count stops at the cap instead of anti-joining every contact.
    """
    marketing = [purpose.pk for purpose in catalogue if purpose.is_direct_marketing]
    unassessed = []
    for purpose in catalogue:
        if not (purpose.active and purpose.needs_assessment):
            continue
        blocking = Q(purpose=purpose) & (
            Q(objected=True) | Q(restricted=True) | Q(consent=ConsentState.Consent.WITHDRAWN)
        )
        if purpose.is_direct_marketing or purpose.is_profiling:
            blocking |= Q(purpose_id__in=marketing, objected=True)
        blocked = ConsentState.objects.filter(blocking, contact=OuterRef("pk"))
        reached = Contact.objects.order_by().exclude(Exists(blocked)).values("pk")
        counted = reached[: UNASSESSED_COUNT_CAP + 1].count()
        unassessed.append(
            UnassessedPurpose(purpose, min(counted, UNASSESSED_COUNT_CAP), counted > UNASSESSED_COUNT_CAP)
        )
    return unassessed


def console_overview() -> ConsoleOverview:
    """The DPO console's figures: the purposes, the recent changes with the contacts' privacy
    rules, the (cached) state counts, and one capped count per unassessed purpose."""
    catalogue = list(Purpose.objects.all())
    counts, counted_at = _state_counts()
    recent = list(
        ConsentEvent.objects.filter(action__in=[ConsentEvent.Action.WITHDRAW, ConsentEvent.Action.OBJECT])
        .select_related("purpose", "contact", "recorded_by")
        .order_by("-occurred_at", "-id")[:RECENT_CHANGES]
    )
    privacy = contact_privacy_for(event.contact for event in recent)
    none = {"granted": 0, "withdrawn": 0, "objected": 0, "restricted": 0}
    return ConsoleOverview(
        counts=[PurposeCounts(purpose=purpose, **counts.get(purpose.pk, none)) for purpose in catalogue],
        counted_at=counted_at,
        recent=[RecentChange(event, privacy[event.contact_id].name_for(event.contact)) for event in recent],
        unassessed=_unassessed(catalogue),
    )
