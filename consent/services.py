"""Writes of the consent app: the ledger, preferences, purposes, suppression, erasure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from consent.erasure import erasure_session
from consent.gate import clear_purpose_cache
from consent.models import (
    Analytics,
    BusinessFunction,
    ConsentEvent,
    ConsentState,
    LawfulBasis,
    Network,
    PrivacyPreference,
    Purpose,
    Suppression,
)
from consent.selectors import forget_consent_snapshot
from consent.suppression import identifier_digest, normalized_email, suppressed_among
from contacts.models import Activity, Contact, ContactMethod
from contacts.registry import WITHHOLDABLE_ATTRIBUTES
from contacts.services.timeline import activity_record
from socialcrm import roles
from socialcrm.audit.registry import Action as AuditAction
from socialcrm.audit.services import audit_record
from socialcrm.models import User

Action = ConsentEvent.Action
CONSENT_ACTIONS = frozenset({Action.GRANT, Action.WITHDRAW})


class ConsentAuditAction(models.TextChoices):
    """Audit actions of the consent app beyond the core ones (registered in ConsentConfig.ready)."""

    SUPPRESSION_ADDED = "suppression.added", "Identifier suppressed"


def _apply(state: ConsentState, event: ConsentEvent) -> None:
    """Move the current state by one ledger event (see ConsentState's docstring)."""
    if event.action == Action.GRANT:
        state.consent = ConsentState.Consent.GRANTED
        state.objected = False
        state.lawful_basis = event.lawful_basis
    elif event.action == Action.WITHDRAW:
        state.consent = ConsentState.Consent.WITHDRAWN
        state.lawful_basis = event.lawful_basis
    elif event.action == Action.OBJECT:
        state.objected = True
    elif event.action == Action.RESTRICT:
        state.restricted = True
    elif event.action == Action.LIFT:
        state.restricted = False
    state.since = event.occurred_at
    state.source = event.source
    state.last_event = event


def _replay(state: ConsentState, purpose: Purpose, events: Iterable[ConsentEvent]) -> None:
    """Set ``state`` to what ``events`` (its contact and purpose, in the order they happened) add up to."""
    state.consent = ConsentState.Consent.NONE
    state.lawful_basis = purpose.lawful_basis
    state.objected = state.restricted = False
    for event in events:
        _apply(state, event)


@transaction.atomic
def consent_record(
    *,
    actor: User | None,
    contact: Contact,
    purpose: Purpose,
    action: str,
    source: str,
    evidence: str,
    lawful_basis: str | None = None,
    notice_version: str = "",
    occurred_at: datetime | None = None,
) -> ConsentEvent:
    """Append one event to the ledger and move the contact's state for ``purpose``.

    The state is the replay of that (contact, purpose)'s events by ``(occurred_at, id)``,
    so a backdated event takes its place in history rather than overriding later ones.

    ``lawful_basis`` defaults to consent for grant/withdraw (the only basis they can
    carry) and to the purpose's default basis for object/restrict/lift. Writes a timeline
    row and an audit row in the same transaction. ``actor`` is None only for the
    person's own actions (portal). Raises ValidationError for bad input.
    """
    action = Action(action)
    if lawful_basis is None:
        lawful_basis = LawfulBasis.CONSENT if action in CONSENT_ACTIONS else purpose.lawful_basis
    if action in CONSENT_ACTIONS and lawful_basis != LawfulBasis.CONSENT:
        raise ValidationError({"lawful_basis": "Giving or withdrawing consent is always on the basis of consent."})
    if lawful_basis not in LawfulBasis.values:
        raise ValidationError({"lawful_basis": "Unknown lawful basis."})
    if source not in ConsentEvent.Source.values:
        raise ValidationError({"source": "Unknown source."})
    if not evidence.strip():
        raise ValidationError({"evidence": "Say what the person said or did, and where that is kept."})
    event = ConsentEvent.objects.create(
        contact=contact,
        purpose=purpose,
        action=action,
        lawful_basis=lawful_basis,
        source=source,
        evidence=evidence.strip(),
        notice_version=notice_version.strip(),
        recorded_by=actor,
        occurred_at=occurred_at or timezone.now(),
    )
    forget_consent_snapshot(contact)
    state = ConsentState.objects.select_for_update().filter(contact=contact, purpose=purpose).first()
    if state is None:
        state = ConsentState(contact=contact, purpose=purpose)
    # Replayed in the order things happened, not the order they were recorded: a grant
    # dated last spring, recorded after today's withdrawal, must not undo the withdrawal.
    # A person's history for one purpose is a handful of rows (the contact/purpose index).
    history = ConsentEvent.objects.filter(contact=contact, purpose=purpose).order_by("occurred_at", "id")
    _replay(state, purpose, history)
    state.save()
    activity_record(
        contact=contact,
        kind=Activity.Kind.CONSENT_CHANGED,
        actor=actor,
        occurred_at=event.occurred_at,
        subject=f"{purpose.name}: {event.get_action_display().lower()}",
        body=f"Source: {event.get_source_display()}. Basis: {event.get_lawful_basis_display()}.",
        source="consent",
        external_id=f"consent-event:{event.receipt_id}",
        payload={"purpose": purpose.code, "action": action.value, "event": event.pk},
    )
    # Object "contact": the audit viewer answers "who touched this person's data?" by contact id.
    audit_record(actor=actor, action=AuditAction.CONSENT_CHANGED, object_type="contact", object_id=contact.pk)
    return event


def _choices(values: Iterable[str], allowed: Iterable[str], field: str) -> list[str]:
    values = list(dict.fromkeys(values))
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValidationError({field: f"Unknown choices: {', '.join(sorted(unknown))}."})
    return values


@transaction.atomic
def preference_update(
    *,
    actor: User | None,
    contact: Contact,
    identify_by: str,
    pseudonym: str,
    withheld_attributes: Iterable[str],
    unlinked_networks: Iterable[str],
    business_functions: Iterable[str],
    allowed_analytics: Iterable[str],
    do_not_contact: bool,
) -> PrivacyPreference:
    """Replace the contact's privacy preferences; writes a timeline and an audit row."""
    if identify_by == PrivacyPreference.IdentifyBy.PSEUDONYM and not pseudonym.strip():
        raise ValidationError({"pseudonym": "Give the pseudonym the person wants to be shown by."})
    forget_consent_snapshot(contact)
    preference, _ = PrivacyPreference.objects.select_for_update().get_or_create(contact=contact)
    preference.identify_by = PrivacyPreference.IdentifyBy(identify_by)
    preference.pseudonym = pseudonym.strip()
    preference.withheld_attributes = _choices(withheld_attributes, WITHHOLDABLE_ATTRIBUTES, "withheld_attributes")
    preference.unlinked_networks = _choices(unlinked_networks, Network.values, "unlinked_networks")
    preference.business_functions = _choices(business_functions, BusinessFunction.values, "business_functions")
    preference.allowed_analytics = _choices(allowed_analytics, Analytics.values, "allowed_analytics")
    preference.do_not_contact = do_not_contact
    preference.updated_by = actor
    preference.save()
    activity_record(
        contact=contact,
        kind=Activity.Kind.CONSENT_CHANGED,
        actor=actor,
        subject="Privacy preferences updated",
        source="consent",
        payload={"preferences": preference.pk},
    )
    audit_record(actor=actor, action=AuditAction.PREFERENCE_CHANGED, object_type="contact", object_id=contact.pk)
    return preference


@transaction.atomic
def purpose_update(*, actor: User, purpose: Purpose, changes: dict[str, Any]) -> Purpose:
    """The DPO edits a purpose (description, basis, retention, flags, assessment)."""
    if not roles.is_dpo(actor):
        raise PermissionDenied
    editable = {
        "name",
        "description",
        "lawful_basis",
        "retention_days",
        "data_categories",
        "business_function",
        "analytics",
        "is_outreach",
        "is_direct_marketing",
        "is_profiling",
        "lia_summary",
        "active",
    }
    unknown = set(changes) - editable
    if unknown:
        raise ValidationError(f"Not editable: {', '.join(sorted(unknown))}.")
    summary_before = purpose.lia_summary
    for name, value in changes.items():
        setattr(purpose, name, value)
    if purpose.lia_summary.strip() and purpose.lia_summary != summary_before:
        purpose.lia_assessed_at = timezone.now()
    elif not purpose.lia_summary.strip():
        purpose.lia_assessed_at = None
    purpose.full_clean()
    purpose.save()
    transaction.on_commit(clear_purpose_cache)
    audit_record(actor=actor, action=AuditAction.DPO_DECISION, object_type="purpose", object_id=purpose.pk)
    return purpose


@transaction.atomic
def suppression_add(*, actor: User | None, email: str, reason: str = "") -> Suppression:
    """Put ``email`` on the suppression list and mark the contacts that carry it.

    The gate refuses marked contacts (``PrivacyPreference.suppressed_at``); contacts
    created later with a suppressed email are marked by ``mark_suppressed_contacts``
    (connected to ContactMethod's post_save).
    """
    suppression, _ = Suppression.objects.get_or_create(digest=identifier_digest(email), defaults={"reason": reason})
    carriers = ContactMethod.objects.filter(kind=ContactMethod.Kind.EMAIL, normalized=normalized_email(email))
    _mark_suppressed(set(carriers.values_list("contact_id", flat=True)))
    audit_record(
        actor=actor, action=ConsentAuditAction.SUPPRESSION_ADDED, object_type="suppression", object_id=suppression.pk
    )
    return suppression


def mark_suppressed_contacts(methods: Iterable[tuple[int, str]]) -> int:
    """Mark the contacts among ``(contact_id, normalized_email)`` whose email is suppressed."""
    methods = list(methods)
    suppressed = suppressed_among([email for _, email in methods])
    contact_ids = {contact_id for contact_id, email in methods if email in suppressed}
    _mark_suppressed(contact_ids)
    return len(contact_ids)


def _mark_suppressed(contact_ids: set[int]) -> None:
    now = timezone.now()
    for contact_id in sorted(contact_ids):
        PrivacyPreference.objects.update_or_create(contact_id=contact_id, defaults={"suppressed_at": now})


@transaction.atomic
def consent_events_erase(contact: Contact) -> int:
    """Delete the contact's consent ledger, states and preferences (erasure only).

    Opens the ledger's two locks for this transaction (see consent/erasure.py); the
    caller is the erasure of the whole person, which writes its own audit row.
    """
    with erasure_session(contact.pk):
        ConsentState.objects.filter(contact=contact).delete()
        PrivacyPreference.objects.filter(contact=contact).delete()
        deleted, _ = ConsentEvent.objects.filter(contact=contact).delete()
    return deleted
