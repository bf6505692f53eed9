"""What importing each row would do: create, update, skip or refuse it, and why.

The same plan drives the preview and the commit: the preview stores it (``stored_row``) and
the commit writes it back (``planned_row``), or plans again if the team's contacts changed
meanwhile, so rows added since are not duplicated. Rows are planned in batches: one query
per batch finds the team's existing contacts by normalized email (or profile URL when a row
has no email), and one asks the suppression list about the batch's emails.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Q

from contacts.importing.parse import METHOD_LISTS, ImportRow, Method
from contacts.models import Contact, ContactMethod
from contacts.normalize import normalize_domain, normalize_method
from contacts.registry import suppressed_emails
from socialcrm.bulk import among

Kind = ContactMethod.Kind
T = TypeVar("T")

CREATE = "create"
UPDATE = "update"
SKIP = "skip"
INVALID = "invalid"
ORGANIZATION = "organization"
ACTION_LABELS = {
    CREATE: "Create",
    UPDATE: "Update",
    SKIP: "Skip",
    INVALID: "Invalid",
    ORGANIZATION: "Organization",
}

# The model's column sizes; longer values make the row invalid rather than silently cut.
FIELD_LIMITS = {
    "first_name": ("First name", 150),
    "last_name": ("Last name", 150),
    "display_name": ("Name", 300),
    "organization": ("Organization", 200),
    "title": ("Role / title", 200),
    "location": ("Location", 200),
    "notes": ("Notes", 20_000),
}
METHOD_MAX_LENGTH = 320
TAG_MAX_LENGTH = 60


@dataclass(slots=True)
class NewMethod:
    kind: str
    value: str
    normalized: str
    label: str = ""


@dataclass(slots=True)
class PlannedRow:
    """One row and what importing it does. ``changes`` and ``methods`` are what an update adds."""

    row: ImportRow
    action: str
    reason: str = ""
    name: str = ""
    methods: list[NewMethod] = field(default_factory=list)
    existing_id: int | None = None
    changes: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    # An update's way back: the matched contact's values (by attname) of the fields in
    # ``changes`` as planned, and its ``updated_at`` then (ISO), so the commit can tell
    # whether the contact changed since.
    previous: dict[str, Any] = field(default_factory=dict)
    seen_at: str = ""
    # An update's methods it does not add, the team having them already (``methods`` keeps
    # only the new ones): what matched it, and what the suppression list is asked about too.
    known_methods: list[NewMethod] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.row.line

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    @property
    def contact_pk(self) -> int:
        """The contact the row created or updated (once written)."""
        if self.existing_id is None:
            raise ValueError(f"Line {self.line} has no contact yet.")
        return self.existing_id

    @property
    def emails(self) -> list[str]:
        return [method.normalized for method in self.methods if method.kind == Kind.EMAIL]

    @property
    def known_emails(self) -> list[str]:
        return [method.normalized for method in self.known_methods if method.kind == Kind.EMAIL]


# What the commit needs of a row it writes, beyond its plan (``stored_row``).
_ROW_TEXT = ("first_name", "last_name", "display_name", "organization", "title", "location", "notes")
WRITTEN = (CREATE, UPDATE, ORGANIZATION)


def stored_row(planned: PlannedRow) -> list[Any]:
    """``planned`` as JSON, for the commit to write without planning the file again.

    A list, not a dict (no key names: a third less JSON to write, store and read back)::

        [line, action, reason]                                          skipped, invalid
        [line, action, reason, name, fields, methods, tags, is_company]   created, organization
        [..., contact id, changes, previous, seen_at, known methods]     updated

    ``fields`` are the row's ``_ROW_TEXT`` in that order, a method is [kind, value,
    normalized, label]. Skipped and invalid rows keep only what the error report says of them.
    """
    stored: list[Any] = [planned.line, planned.action, planned.reason]
    if planned.action not in WRITTEN:
        return stored
    row = planned.row
    stored += [
        planned.name,
        [getattr(row, attribute) for attribute in _ROW_TEXT],
        list(map(_stored_method, planned.methods)),
        planned.tags,
        row.is_company,
    ]
    if planned.action == UPDATE:
        stored += [
            planned.existing_id,
            planned.changes,
            planned.previous,
            planned.seen_at,
            [_stored_method(method) for method in planned.known_methods],
        ]
    return stored


def _stored_method(method: NewMethod) -> list[str]:
    return [method.kind, method.value, method.normalized, method.label]


def planned_row(stored: list[Any]) -> PlannedRow:
    """The ``PlannedRow`` that ``stored_row`` stored; its ``row`` has the fields but not the
    methods, which stay on the plan (``replannable_row`` puts them back).
    """
    line, action, reason = stored[:3]
    if len(stored) == 3:
        return PlannedRow(ImportRow(line), action, reason)
    name, fields, methods, tags, is_company = stored[3:8]
    row = ImportRow(line, **dict(zip(_ROW_TEXT, fields, strict=True)), tags=list(tags), is_company=is_company)
    planned = PlannedRow(row, action, reason, name=name, methods=[NewMethod(*method) for method in methods], tags=tags)
    if action == UPDATE:
        planned.existing_id, planned.changes, planned.previous, planned.seen_at, known = stored[8:]
        planned.known_methods = [NewMethod(*method) for method in known]
    return planned


def replannable_row(planned: PlannedRow) -> ImportRow:
    """``planned.row`` to plan again, with its methods back if it was rebuilt by ``planned_row``."""
    row = planned.row
    if not (row.emails or row.phones or row.websites or row.handles):
        for method in planned.known_methods + planned.methods:
            getattr(row, METHOD_LISTS[method.kind]).append(Method(method.value, method.label))
    return row


def _too_long(row: ImportRow) -> str:
    for attribute, (label, limit) in FIELD_LIMITS.items():
        length = len(getattr(row, attribute))
        if length > limit:
            return f"{label}: too long ({length:,} characters; at most {limit:,})."
    for method in (*row.emails, *row.phones, *row.websites, *row.handles):
        if len(method.value) > METHOD_MAX_LENGTH:
            return f"A contact detail is too long ({len(method.value):,} characters; at most {METHOD_MAX_LENGTH})."
    return ""


def _normalize_methods(row: ImportRow) -> tuple[list[NewMethod], list[str], str]:
    """(methods, notes about ignored values, error): an invalid email is an error, others are dropped."""
    methods: list[NewMethod] = []
    ignored: list[str] = []
    seen: set[tuple[str, str]] = set()
    groups: tuple[tuple[str, list[Method]], ...] = (
        (Kind.EMAIL, row.emails),
        (Kind.PHONE, row.phones),
        (Kind.WEBSITE, row.websites),
        (Kind.HANDLE, row.handles),
    )
    for kind, values in groups:
        for method in values:
            try:
                normalized = normalize_method(kind, method.value)
            except ValidationError as error:
                # Django's error lists itself (a reference cycle) and its traceback holds the
                # planning frames, whose callers hold the whole batch: dropped, the batch is
                # freed when done with instead of at the next full garbage collection.
                error.__traceback__ = None
                if kind == Kind.EMAIL:
                    return [], [], f"“{method.value[:80]}” is not a valid email address."
                ignored.append(f"{Kind(kind).label.lower()} “{method.value[:80]}” ignored (not valid)")
                continue
            if (kind, normalized) not in seen:
                seen.add((kind, normalized))
                methods.append(NewMethod(kind, method.value, normalized, method.label))
    return methods, ignored, ""


def _first_planning(row: ImportRow) -> PlannedRow:
    """Checks that need no database: readable, sizes, a name or an email, valid addresses."""
    if row.error:
        return PlannedRow(row, INVALID, row.error)
    too_long = _too_long(row)
    if too_long:
        return PlannedRow(row, INVALID, too_long)
    methods, ignored, error = _normalize_methods(row)
    if error:
        return PlannedRow(row, INVALID, error)
    tags = list(dict.fromkeys(tag[:TAG_MAX_LENGTH] for tag in row.tags if tag))
    person = row.name
    if row.is_company or (not person and row.organization):
        organization = row.organization or row.display_name
        reason = "A company, not a person: imported as an organization."
        return PlannedRow(row, ORGANIZATION, reason, name=organization, methods=methods)
    name = person or next((method.value for method in methods if method.kind == Kind.EMAIL), "")
    if not name:
        return PlannedRow(row, INVALID, "The row has no name, email address or organization.")
    planned = PlannedRow(row, CREATE, "; ".join(ignored), name=name, methods=methods, tags=tags)
    return planned


def skip_suppressed(plans: list[PlannedRow]) -> None:
    """Skip the people (to create or update) with an email on the suppression list: one query."""
    people = [planned for planned in plans if planned.action in (CREATE, UPDATE)]
    suppressed = suppressed_emails({email for planned in people for email in (*planned.emails, *planned.known_emails)})
    if not suppressed:
        return
    for planned in people:
        if suppressed.intersection(planned.emails) or suppressed.intersection(planned.known_emails):
            planned.action = SKIP
            planned.reason = "On the suppression list: this person asked to be erased."


def _match_keys(planned: PlannedRow) -> list[tuple[str, str]]:
    """What identifies the person: their emails, or, without one, their profile URLs."""
    emails = [(Kind.EMAIL.value, email) for email in planned.emails]
    if emails:
        return emails
    return [(method.kind, method.normalized) for method in planned.methods if method.kind == Kind.WEBSITE]


class Planner:
    """Plans rows batch by batch, remembering the rows already seen in the file."""

    def __init__(self, team: Any) -> None:
        self.team = team
        self.seen: dict[tuple[str, str], int] = {}

    def plan(self, rows: Iterable[ImportRow]) -> list[PlannedRow]:
        plans = [_first_planning(row) for row in rows]
        skip_suppressed(plans)
        # What identifies each person, worked out once: ``methods`` do not change until matched.
        people = [(planned, _match_keys(planned)) for planned in plans if planned.action == CREATE]
        for planned, keys in people:
            first_seen = next((self.seen[key] for key in keys if key in self.seen), None)
            if first_seen is not None:
                planned.action, planned.reason = SKIP, f"Duplicate of line {first_seen} in this file."
                continue
            for key in keys:
                self.seen[key] = planned.line
        self._match_existing([(planned, keys) for planned, keys in people if planned.action == CREATE])
        return plans

    def _match_existing(self, people: list[tuple[PlannedRow, list[tuple[str, str]]]]) -> None:
        """Plan the update of each person (with their match keys) the team has already."""
        wanted = {key for _, keys in people for key in keys}
        if not wanted:
            return
        condition = Q()
        for kind in {kind for kind, _ in wanted}:
            condition |= Q(among("normalized", [value for k, value in wanted if k == kind]), kind=kind)
        found = ContactMethod.objects.filter(condition, team=self.team).values_list("kind", "normalized", "contact_id")
        owners = {(kind, normalized): contact_id for kind, normalized, contact_id in found}
        matched = {planned.line: owners[key] for planned, keys in people for key in keys if key in owners}
        if not matched:
            return
        ids = set(matched.values())
        existing = {
            row["id"]: _Existing(row)
            for row in Contact.objects.filter(among("id", ids)).values("id", *_Existing.FIELDS)
        }
        for contact_id, kind, normalized in ContactMethod.objects.filter(among("contact_id", ids)).values_list(
            "contact_id", "kind", "normalized"
        ):
            existing[contact_id].methods.add((kind, normalized))
        for contact_id, name in Contact.tags.through.objects.filter(among("contact_id", ids)).values_list(
            "contact_id", "tag__name"
        ):
            existing[contact_id].tags.add(name)
        taken_emails = {normalized for (kind, normalized) in owners if kind == Kind.EMAIL}
        for planned, _ in people:
            contact = existing.get(matched.get(planned.line, 0))
            if contact is not None:
                _plan_update(planned, contact, taken_emails)


class _Existing:
    """What updating a matched contact reads of it: its fields (plain values), methods and tag names."""

    FIELDS = ("first_name", "last_name", "title", "location", "organization_id", "notes", "display_name", "updated_at")

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.methods: set[tuple[str, str]] = set()
        self.tags: set[str] = set()


def _plan_update(planned: PlannedRow, contact: _Existing, taken_emails: set[str]) -> None:
    """Fill the contact's empty fields and add what it lacks; skip when the row adds nothing."""
    row, values = planned.row, contact.values
    changes = {
        attribute: getattr(row, attribute)
        for attribute in ("first_name", "last_name", "title", "location")
        if getattr(row, attribute) and not values[attribute]
    }
    if row.organization and values["organization_id"] is None:
        changes["organization"] = row.organization
    if row.notes and row.notes not in values["notes"]:
        changes["notes"] = "\n\n".join(part for part in (values["notes"], row.notes) if part)
    new: list[NewMethod] = []
    known: list[NewMethod] = []
    for method in planned.methods:
        is_known = (method.kind, method.normalized) in contact.methods or (
            method.kind == Kind.EMAIL and method.normalized in taken_emails
        )
        (known if is_known else new).append(method)
    planned.methods, planned.known_methods = new, known
    planned.tags = [tag for tag in planned.tags if tag not in contact.tags]
    planned.changes = changes
    attnames = ("organization_id" if attribute == "organization" else attribute for attribute in changes)
    planned.previous = {attname: values[attname] for attname in attnames}
    planned.seen_at = values["updated_at"].isoformat()
    planned.existing_id = values["id"]
    name = planned.name = values["display_name"]
    if not (changes or planned.methods or planned.tags):
        planned.action, planned.reason = SKIP, f"Already in the team as {name}; nothing new."
        return
    added = [*(attribute.replace("_", " ") for attribute in changes), *(m.kind for m in planned.methods)]
    if planned.tags:
        added.append("tags")
    planned.action = UPDATE
    planned.reason = f"Already in the team as {name}: adds {', '.join(dict.fromkeys(added))}."


def email_domain(planned: PlannedRow) -> str:
    """The domain of a company row's first email, for its organization ("" if none or invalid)."""
    for email in planned.emails:
        try:
            return normalize_domain(email.rpartition("@")[2])
        except ValidationError:
            continue
    return ""


def batched(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
