"""Plug points for the apps built on contacts (enrichment, consent).

``contacts`` imports neither of them. They register here in ``AppConfig.ready()``:

- personal-data holders: every model that stores personal data about a contact is
  covered by one holder's ``export`` and ``erase`` (erasure walks this registry; a test
  fails if a model with a ForeignKey to Contact is not covered);
- contact panels: boxes in the right-hand column of the contact page;
- the processing gate: the one function that says whether a contact's data may be
  processed for a purpose; functions that process personal data are marked
  ``@processing(purpose=...)`` so a test can enumerate them and check they ask the gate;
- contact privacy: how staff views and exports present a contact (the name the person
  chose, the attributes they withhold) and the badges a contact list shows. Any page or
  panel that shows a contact's attributes asks ``contact_privacy(contact)`` (one contact)
  or ``contact_privacy_for(contacts)`` / ``shown_contacts(contacts)`` (a list, one query;
  ``contact_privacy_by_id(ids)`` for exports, which read no Contact instances) and leaves
  out what ``withheld`` names; e.g. the enrichment panel shows no public profiles when
  ``"social_profiles"`` is withheld. Search asks ``contacts_withholding`` so that a
  withheld attribute finds nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from django.http import HttpRequest

    from contacts.models import Contact


@dataclass(frozen=True)
class PersonalDataHolder:
    """Exports and erases one app's personal data about a contact.

    ``models`` lists the models it covers; ``export`` returns JSON-safe data;
    ``erase`` deletes or anonymizes everything it covers, inside the caller's transaction.
    """

    name: str
    models: tuple[type[Model], ...]
    export: Callable[[Contact], Any]
    erase: Callable[[Contact], None]


@dataclass(frozen=True)
class ContactPanel:
    """A panel on the contact page. ``render`` returns safe HTML (a rendered template).

    ``prefetch(request)`` (optional) returns annotations ``{name: expression}`` (correlated
    subqueries on the contact, e.g. JSON arrays of rows) that the contact page adds to its
    one contact query, so the panel renders without queries of its own: ``render`` finds
    them as ``contact.<name>`` and queries itself only when they are missing (the panel
    rendered on its own, after an htmx action). Names should start with the panel's name.
    The contact query is compiled once per user shape (``contact_card_get``): the annotations
    may depend on the user's id, roles and teams only, and take the time from
    ``socialcrm.stored_queries.RequestNow``, never from a ``timezone.now()`` value.
    """

    name: str
    render: Callable[[HttpRequest, Contact], str]
    order: int = 100
    prefetch: Callable[[HttpRequest], Mapping[str, Any]] | None = None


class Decision(Protocol):
    # Read-only, so frozen dataclasses satisfy it.
    @property
    def allowed(self) -> bool: ...

    @property
    def reason(self) -> str: ...


_holders: dict[str, PersonalDataHolder] = {}
_panels: dict[str, ContactPanel] = {}
_gate: list[Callable[[Contact, str], Decision]] = []
_bulk_gate: list[Callable[[list[int], str], Mapping[int, Decision]]] = []


def register_personal_data_holder(holder: PersonalDataHolder) -> None:
    _holders[holder.name] = holder


def personal_data_holders() -> list[PersonalDataHolder]:
    return list(_holders.values())


def register_contact_panel(panel: ContactPanel) -> None:
    _panels[panel.name] = panel


def contact_panels() -> list[ContactPanel]:
    return sorted(_panels.values(), key=lambda panel: panel.order)


def contact_panel_prefetches(request: HttpRequest) -> dict[str, Any]:
    """Every registered panel's annotations for the contact page's contact query."""
    return {
        name: value for panel in contact_panels() if panel.prefetch for name, value in panel.prefetch(request).items()
    }


def contact_panel_prefetches_shape() -> tuple[tuple[str, Any], ...]:
    """What ``contact_panel_prefetches``'s annotations depend on besides the user: the
    registered panels' prefetches (part of the stored contact query's key)."""
    return tuple((panel.name, panel.prefetch) for panel in contact_panels() if panel.prefetch)


def register_gate(gate: Callable[[Contact, str], Decision]) -> None:
    _gate[:] = [gate]


def gate_allows(contact: Contact, purpose: str) -> Decision:
    """Ask the registered processing gate (the consent app's) about ``purpose``."""
    if not _gate:
        raise RuntimeError("No processing gate is registered; the consent app must be installed.")
    return _gate[0](contact, purpose)


def register_bulk_gate(decisions: Callable[[list[int], str], Mapping[int, Decision]]) -> None:
    """``decisions(contact_ids, purpose)`` returns ``{contact_id: Decision}``, one query per chunk."""
    _bulk_gate[:] = [decisions]


def gate_allowed_ids(contact_ids: Iterable[int], purpose: str) -> set[int]:
    """The ids among ``contact_ids`` the gate allows to be processed for ``purpose``.

    For lists (exports): the consent app's bulk gate answers in one query per chunk. An id
    it has no decision for (the contact is gone) is not allowed.
    """
    if not _bulk_gate:
        raise RuntimeError("No bulk processing gate is registered; the consent app must be installed.")
    ids = list(contact_ids)
    decisions = _bulk_gate[0](ids, purpose) if ids else {}
    return {pk for pk in ids if pk in decisions and decisions[pk].allowed}


# --- processing entry points ----------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ProcessingEntryPoint:
    """A function that processes contacts' personal data for ``purpose``."""

    name: str
    purpose: str
    func: Callable[..., Any]


_entry_points: dict[str, ProcessingEntryPoint] = {}
# The purposes the gate was asked about during the current call (see ``gate_consultations``).
_consulted: ContextVar[list[str] | None] = ContextVar("gate_consulted", default=None)


def processing(*, purpose: str) -> Callable[[F], F]:
    """Mark a function (a task, an export, a nudge) as processing personal data for ``purpose``.

    It must ask the gate (``gate_allows`` or ``consent.gate``) for every contact it
    processes; ``tests/consent/test_gate_consultation.py`` enumerates every marked function
    and fails when one does not.
    """

    def decorator(func: F) -> F:
        name = f"{func.__module__}.{func.__qualname__}"
        _entry_points[name] = ProcessingEntryPoint(name=name, purpose=purpose, func=func)
        func.processing_purpose = purpose  # type: ignore[attr-defined]
        return func

    return decorator


def processing_entry_points() -> list[ProcessingEntryPoint]:
    return sorted(_entry_points.values(), key=lambda entry: entry.name)


def note_gate_consulted(purpose: str) -> None:
    """Called by the gate on every decision, so tests can see which purposes were asked about."""
    consulted = _consulted.get()
    if consulted is not None:
        consulted.append(purpose)


@contextmanager
def gate_consultations() -> Iterator[list[str]]:
    """Collect the purposes the gate is asked about inside the ``with`` block."""
    asked: list[str] = []
    token = _consulted.set(asked)
    try:
        yield asked
    finally:
        _consulted.reset(token)


# --- contact privacy: what staff views and exports may show ---------------------------------

# Attributes a person may withhold from staff views and exports. Contact fields and
# contact method kinds keep their own names; ``social_profiles`` is enrichment's panel.
WITHHOLDABLE_ATTRIBUTES: dict[str, str] = {
    "email": "Email addresses",
    "phone": "Phone numbers",
    "website": "Websites",
    "handle": "Social handles",
    "title": "Role / title",
    "organization": "Organization",
    "location": "Location",
    "notes": "Notes",
    "social_profiles": "Public social profiles",
}


@dataclass(frozen=True)
class ContactPrivacy:
    """How a contact must be shown to staff and in exports.

    ``display_name`` is the name the person chose to be identified by (a pseudonym, say),
    ``""`` when they chose none; ``withheld`` holds keys of ``WITHHOLDABLE_ATTRIBUTES``.
    """

    display_name: str = ""
    withheld: frozenset[str] = field(default_factory=frozenset)

    def shows(self, attribute: str) -> bool:
        return attribute not in self.withheld

    def name_for(self, contact: Contact) -> str:
        return self.name_instead_of(contact.display_name)

    def name_instead_of(self, name: str) -> str:
        """The name to show for a contact whose own display name is ``name``."""
        return self.display_name or name


@dataclass(frozen=True)
class ContactBadge:
    """A small label next to a contact in lists (``tone``: success, warning, danger or '')."""

    label: str
    title: str = ""
    tone: str = ""


NO_PRIVACY_RULES = ContactPrivacy()
_privacy: list[Callable[[Iterable[Contact]], Mapping[int, ContactPrivacy]]] = []
_privacy_by_id: list[Callable[[Sequence[int]], Mapping[int, ContactPrivacy]]] = []
_badges: list[Callable[[Iterable[Contact]], Mapping[int, list[ContactBadge]]]] = []


def register_contact_privacy(
    rules: Callable[[Iterable[Contact]], Mapping[int, ContactPrivacy]],
    by_id: Callable[[Sequence[int]], Mapping[int, ContactPrivacy]],
) -> None:
    """``rules(contacts)`` returns ``{contact.pk: ContactPrivacy}`` for those with rules, in one
    query; ``by_id(contact_ids)`` the same from ids alone (exports, which read plain rows)."""
    _privacy[:] = [rules]
    _privacy_by_id[:] = [by_id]


def contact_privacy_for(contacts: Iterable[Contact]) -> dict[int, ContactPrivacy]:
    """Privacy rules for many contacts (lists, exports): ``{pk: ContactPrivacy}`` for every one."""
    contacts = list(contacts)
    found = _privacy[0](contacts) if _privacy and contacts else {}
    return {contact.pk: found.get(contact.pk, NO_PRIVACY_RULES) for contact in contacts}


def contact_privacy_by_id(contact_ids: Sequence[int]) -> dict[int, ContactPrivacy]:
    """``contact_privacy_for`` from ids (exports): ``{id: ContactPrivacy}`` for every one, one query."""
    found = _privacy_by_id[0](contact_ids) if _privacy_by_id and contact_ids else {}
    return {pk: found.get(pk, NO_PRIVACY_RULES) for pk in contact_ids}


_withholding: list[Callable[[str], QuerySet[Any]]] = []


def register_contacts_withholding(withholding: Callable[[str], QuerySet[Any]]) -> None:
    """``withholding(attribute)`` answers the ids of the contacts who withhold ``attribute``
    (a key of ``WITHHOLDABLE_ATTRIBUTES``) as a query of one column, for a subquery."""
    _withholding[:] = [withholding]


def contacts_withholding(attribute: str) -> QuerySet[Any] | None:
    """The ids of the contacts who withhold ``attribute`` (a subquery); None when no rules apply."""
    return _withholding[0](attribute) if _withholding else None


def contact_privacy(contact: Contact) -> ContactPrivacy:
    """Privacy rules for one contact (the contact page); no rules registered means none apply."""
    return contact_privacy_for([contact])[contact.pk]


def register_contact_badges(badges: Callable[[Iterable[Contact]], Mapping[int, list[ContactBadge]]]) -> None:
    _badges.append(badges)


def contact_badges_for(contacts: Iterable[Contact]) -> dict[int, list[ContactBadge]]:
    """Badges for a page of contacts, one query per registered provider (not per row)."""
    contacts = list(contacts)
    result: dict[int, list[ContactBadge]] = {contact.pk: [] for contact in contacts}
    for provider in _badges if contacts else []:
        for pk, badges in provider(contacts).items():
            result[pk].extend(badges)
    return result


@dataclass(frozen=True)
class ShownContact:
    """A contact as a staff list shows it: the chosen name, the privacy rules, the badges.

    Templates leave out what ``privacy.withheld`` names: ``{% if "email" not in row.privacy.withheld %}``.
    """

    contact: Contact
    name: str
    privacy: ContactPrivacy
    badges: list[ContactBadge]


def shown_contacts(
    contacts: Iterable[Contact], *, privacy: Mapping[int, ContactPrivacy] | None = None
) -> list[ShownContact]:
    """A page of contacts for a list, with their privacy rules (``privacy`` when the caller
    already has them from ``contact_privacy_for``) and badges. Never a query per row; with
    the consent app, one query for both (it reads each contact's preferences and states once)."""
    contacts = list(contacts)
    rules = privacy if privacy is not None else contact_privacy_for(contacts)
    badges = contact_badges_for(contacts)
    shown = []
    for contact in contacts:
        contact_rules = rules.get(contact.pk, NO_PRIVACY_RULES)
        shown.append(ShownContact(contact, contact_rules.name_for(contact), contact_rules, badges[contact.pk]))
    return shown


# --- The suppression list (imports skip people who asked to be forgotten) -------------------

_suppression: list[Callable[[list[str]], set[str]]] = []


def register_suppression_check(check: Callable[[list[str]], set[str]]) -> None:
    """``check(normalized_emails)`` returns the suppressed ones among them, in one query."""
    _suppression[:] = [check]


def suppressed_emails(normalized_emails: Iterable[str]) -> set[str]:
    """The suppressed ones among ``normalized_emails``; none when no check is registered."""
    emails = list(normalized_emails)
    return _suppression[0](emails) if _suppression and emails else set()


def is_suppressed(normalized_email: str) -> bool:
    return bool(suppressed_emails([normalized_email]))


# --- Merging contacts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeHook:
    """Moves one app's rows from a contact being merged away to the surviving one.

    ``models`` are left alone by the generic re-pointing of foreign keys to Contact
    (contacts/services/merge.py); ``merge(survivor, merged)`` handles them instead, inside
    the merge's transaction (for rows that may not simply be re-pointed, such as an
    append-only ledger or one row per contact).
    """

    name: str
    models: tuple[type[Model], ...]
    merge: Callable[[Contact, Contact], None]


_merge_hooks: dict[str, MergeHook] = {}


def register_merge_hook(hook: MergeHook) -> None:
    _merge_hooks[hook.name] = hook


def merge_hooks() -> list[MergeHook]:
    return list(_merge_hooks.values())
