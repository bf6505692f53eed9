"""The processing gate: may this person's data be processed for this purpose, now?

``allows(contact, purpose_code)`` is registered as ``contacts.registry.gate_allows``; every
function that processes personal data (marked ``@processing(purpose=...)``) asks it at the
moment it processes. The rules, in order (the first that applies decides):

1. the contact no longer exists (erased) or an identifier of theirs is suppressed: no;
2. the purpose is retired by the DPO: no;
3. processing is restricted for this purpose, or the person objected to it: no;
4. an objection to any direct-marketing purpose is absolute: it also stops every other
   direct-marketing purpose and every profiling purpose;
5. consent to this purpose was withdrawn: no, whatever the purpose's default basis (a
   withdrawn consent is never swapped for another basis);
6. privacy preferences: do-not-contact stops outreach; a business function or an
   analytics kind the person did not allow stops the purposes that belong to it;
7. consent given: yes, on consent;
8. the purpose's default basis is consent and none was given: no (no pre-ticked boxes);
9. otherwise (legitimate interests, contract, ...): yes, on that basis.

Cost: one indexed query per call (the contact joined with its state row for the purpose
and its preference row, plus an EXISTS on the objection index for rules 4), one per
chunk of contacts for ``decisions_for``, and one for every purpose of one contact
(``decisions_for_contact``, none when given a ``read_snapshot``). Purposes are cached in-process for
``PURPOSE_CACHE_SECONDS`` (and dropped at once in the process that edits one).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, FilteredRelation, OuterRef, Q, Value

from consent.models import ConsentState, LawfulBasis, PrivacyPreference, Purpose
from contacts.models import Contact
from contacts.registry import note_gate_consulted
from socialcrm.bulk import among

PURPOSE_CACHE_SECONDS = 60.0
CHUNK = 1000


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str
    reason: str


@dataclass(frozen=True)
class PurposeInfo:
    """What the gate needs to know about a purpose (cached)."""

    id: int
    code: str
    name: str
    description: str
    lawful_basis: str
    business_function: str
    analytics: str
    is_outreach: bool
    is_direct_marketing: bool
    is_profiling: bool
    active: bool


_cache: dict[str, PurposeInfo] = {}
_cache_loaded_at = 0.0


def clear_purpose_cache(**_: Any) -> None:
    """Forget the cached purposes (connected to Purpose's post_save/post_delete)."""
    global _cache_loaded_at
    _cache.clear()
    _cache_loaded_at = 0.0


def purposes() -> dict[str, PurposeInfo]:
    """Every purpose by code, from the in-process cache."""
    global _cache_loaded_at
    if not _cache or time.monotonic() - _cache_loaded_at > PURPOSE_CACHE_SECONDS:
        fields = list(PurposeInfo.__dataclass_fields__)
        loaded = {row["code"]: PurposeInfo(**row) for row in Purpose.objects.values(*fields)}
        _cache.clear()
        _cache.update(loaded)
        _cache_loaded_at = time.monotonic()
    return _cache


def active_purposes() -> list[PurposeInfo]:
    """The purposes in use, by name (what staff may record and the consent panel lists)."""
    return sorted((info for info in purposes().values() if info.active), key=lambda info: info.name)


def purpose_info(code: str) -> PurposeInfo:
    try:
        return purposes()[code]
    except KeyError:
        clear_purpose_cache()
        if code in purposes():
            return purposes()[code]
        raise LookupError(f"Unknown purpose {code!r}.") from None


def _rows(contact_ids: list[int], purpose: PurposeInfo) -> dict[int, dict[str, Any]]:
    """The gate's inputs for each contact, in one query: state row and preference row joined."""
    blockers = [info.id for info in purposes().values() if info.is_direct_marketing]
    covered = purpose.is_direct_marketing or purpose.is_profiling
    queryset = (
        Contact.objects.filter(among("pk", contact_ids))
        .order_by()  # no sort: the caller looks rows up by id
        .annotate(
            state=FilteredRelation("consent_states", condition=Q(consent_states__purpose_id=purpose.id)),
            objected_to_marketing=(
                Exists(ConsentState.objects.filter(contact=OuterRef("pk"), objected=True, purpose_id__in=blockers))
                if covered and blockers
                else Value(False)
            ),
        )
        .values(
            "pk",
            "objected_to_marketing",
            "state__consent",
            "state__lawful_basis",
            "state__objected",
            "state__restricted",
            "privacy_preference__do_not_contact",
            "privacy_preference__business_functions",
            "privacy_preference__allowed_analytics",
            "privacy_preference__suppressed_at",
        )
    )
    return {row["pk"]: dict(row) for row in queryset}


def _decide(purpose: PurposeInfo, row: dict[str, Any] | None) -> Decision:
    if row is None:
        return Decision(False, "", "The person's data was erased.")
    basis = row["state__lawful_basis"] or purpose.lawful_basis
    if row["privacy_preference__suppressed_at"] is not None:
        return Decision(False, basis, "The person is on the suppression list.")
    if not purpose.active:
        return Decision(False, basis, f"The purpose “{purpose.name}” is retired.")
    if row["state__restricted"]:
        return Decision(False, basis, "The person restricted processing for this purpose.")
    if row["state__objected"]:
        return Decision(False, basis, "The person objected to this purpose.")
    if row["objected_to_marketing"]:
        return Decision(False, basis, "The person objected to direct marketing, which also covers profiling.")
    consent = row["state__consent"]
    if consent == ConsentState.Consent.WITHDRAWN:
        return Decision(False, basis, "The person withdrew consent.")
    if row["privacy_preference__do_not_contact"] and purpose.is_outreach:
        return Decision(False, basis, "The person asked not to be contacted.")
    functions = row["privacy_preference__business_functions"]
    if purpose.business_function and functions is not None and purpose.business_function not in functions:
        return Decision(False, basis, "The person does not want this part of the business to engage them.")
    analytics = row["privacy_preference__allowed_analytics"]
    if purpose.analytics and analytics is not None and purpose.analytics not in analytics:
        return Decision(False, basis, "The person does not allow this kind of analytics.")
    if consent == ConsentState.Consent.GRANTED:
        return Decision(True, basis, "The person consented.")
    if purpose.lawful_basis == LawfulBasis.CONSENT:
        return Decision(False, LawfulBasis.CONSENT, "The person has not given consent.")
    label = LawfulBasis(purpose.lawful_basis).label
    return Decision(True, purpose.lawful_basis, f"{label}; the person has not objected.")


@dataclass(frozen=True)
class ConsentSnapshot:
    """One contact's privacy preferences (None: no row, the defaults) and states by purpose id."""

    preference: PrivacyPreference | None
    states: dict[int, ConsentState]


def read_snapshots(contacts: Iterable[Contact | int]) -> dict[int, ConsentSnapshot]:
    """The contacts' preference rows and every state row, in one query.

    The contacts LEFT JOINed to both: one row per state (at most one per purpose), each
    carrying the preference's columns, or a single row for a contact with no state.
    """
    ids = [contact if isinstance(contact, int) else contact.pk for contact in contacts]
    preference_fields = [field.attname for field in PrivacyPreference._meta.concrete_fields]
    state_fields = [field.attname for field in ConsentState._meta.concrete_fields]
    columns = ["pk", *(f"privacy_preference__{name}" for name in preference_fields)]
    columns += [f"consent_states__{name}" for name in state_fields]
    rows = Contact.objects.filter(pk__in=ids).order_by().values_list(*columns)
    preferences: dict[int, PrivacyPreference] = {}
    states: dict[int, dict[int, ConsentState]] = {pk: {} for pk in ids}
    split = 1 + len(preference_fields)
    for row in rows:
        pk = row[0]
        if pk not in preferences and row[1] is not None:
            preferences[pk] = PrivacyPreference.from_db(rows.db, preference_fields, row[1:split])
        if row[split] is not None:
            state = ConsentState.from_db(rows.db, state_fields, row[split:])
            states[pk][state.purpose_id] = state
    return {pk: ConsentSnapshot(preferences.get(pk), states[pk]) for pk in ids}


def read_snapshot(contact: Contact | int) -> ConsentSnapshot:
    """``read_snapshots`` for one contact."""
    contact_id = contact if isinstance(contact, int) else contact.pk
    return read_snapshots([contact_id])[contact_id]


def decisions_for_contact(contact: Contact, snapshot: ConsentSnapshot | None = None) -> dict[str, Decision]:
    """Every purpose's decision for one contact (the consent panel): one query at most.

    ``snapshot`` (from ``read_snapshot``) saves the query when the caller already has it.
    """
    snapshot = snapshot or read_snapshot(contact)
    states, preference = snapshot.states, snapshot.preference
    catalogue = purposes()
    blockers = {info.id for info in catalogue.values() if info.is_direct_marketing}
    objected_to_marketing = any(state.objected for pk, state in states.items() if pk in blockers)
    decisions = {}
    for code, purpose in catalogue.items():
        note_gate_consulted(code)
        state = states.get(purpose.id)
        row = {
            "objected_to_marketing": objected_to_marketing and (purpose.is_direct_marketing or purpose.is_profiling),
            "state__consent": state.consent if state else None,
            "state__lawful_basis": state.lawful_basis if state else None,
            "state__objected": state.objected if state else None,
            "state__restricted": state.restricted if state else None,
            "privacy_preference__do_not_contact": preference.do_not_contact if preference else None,
            "privacy_preference__business_functions": preference.business_functions if preference else None,
            "privacy_preference__allowed_analytics": preference.allowed_analytics if preference else None,
            "privacy_preference__suppressed_at": preference.suppressed_at if preference else None,
        }
        decisions[code] = _decide(purpose, row)
    return decisions


def allows(contact: Contact | int, purpose_code: str) -> Decision:
    """May ``contact``'s data be processed for ``purpose_code`` now? One query.

    Raises LookupError for an unknown purpose code (a programming error, not a "no").
    """
    note_gate_consulted(purpose_code)
    purpose = purpose_info(purpose_code)
    contact_id = contact if isinstance(contact, int) else contact.pk
    return _decide(purpose, _rows([contact_id], purpose).get(contact_id))


def decisions_for(contacts: Iterable[Contact | int], purpose_code: str) -> dict[int, Decision]:
    """``allows`` for many contacts at once: ``{contact_id: Decision}``, one query per 1,000."""
    note_gate_consulted(purpose_code)
    purpose = purpose_info(purpose_code)
    ids = [contact if isinstance(contact, int) else contact.pk for contact in contacts]
    decisions: dict[int, Decision] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = _rows(chunk, purpose)
        decisions.update({pk: _decide(purpose, rows.get(pk)) for pk in chunk})
    return decisions
