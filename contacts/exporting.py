"""Exporting a filtered contact list as CSV or vCard 4.0, streamed in constant memory.

Contacts are read ``CHUNK`` at a time (a server-side cursor on PostgreSQL; methods and tags
read per chunk as plain tuples), written out and forgotten, so 100,000 contacts take as much memory
as 2,000. Each chunk is also where the privacy rules (the name a person chose, what they
withhold) are applied and where the export is written to the audit trail, one event per
contact: a download cut short is audited for what was actually sent.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from contacts.models import Contact, ContactMethod
from contacts.registry import ContactPrivacy, contact_privacy_for
from socialcrm.audit.registry import Action
from socialcrm.audit.services import audit_record_many, event_spec

CHUNK = 2000
CSV_COLUMNS = (
    "name",
    "first_name",
    "last_name",
    "organization",
    "title",
    "location",
    "emails",
    "phones",
    "websites",
    "handles",
    "tags",
    "notes",
    "created_at",
    "last_contacted_at",
)
METHOD_COLUMNS = (("email", "emails"), ("phone", "phones"), ("website", "websites"), ("handle", "handles"))
# Spreadsheets run cells starting with these as formulas (=HYPERLINK(...) exfiltrates data).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: str) -> str:
    """A cell value a spreadsheet shows as text: formula-like values get a leading apostrophe."""
    return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class ExportedMethod:
    kind: str
    value: str
    normalized: str
    label: str


@dataclass
class ExportRow:
    """One contact with what an export writes about it, read in bulk per chunk."""

    contact: Contact
    privacy: ContactPrivacy
    methods: list[ExportedMethod] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def methods_of(self, kind: str) -> list[ExportedMethod]:
        if not self.privacy.shows(kind):
            return []
        return [method for method in self.methods if method.kind == kind]


def _rows(chunk: list[Contact]) -> list[ExportRow]:
    """The chunk's methods and tags in two flat queries (no model instances: they cost the most)."""
    privacy = contact_privacy_for(chunk)
    rows = {contact.pk: ExportRow(contact, privacy[contact.pk]) for contact in chunk}
    methods = (
        ContactMethod.objects.filter(contact_id__in=rows)
        .order_by("contact_id", "kind", "-is_primary", "id")
        .values_list("contact_id", "kind", "value", "normalized", "label")
    )
    for contact_id, kind, value, normalized, label in methods:
        rows[contact_id].methods.append(ExportedMethod(kind, value, normalized, label))
    tags = (
        Contact.tags.through.objects.filter(contact_id__in=rows)
        .order_by("tag__name")
        .values_list("contact_id", "tag__name")
    )
    for contact_id, name in tags:
        rows[contact_id].tags.append(name)
    return list(rows.values())


def _chunks(contacts: QuerySet[Contact], request: HttpRequest, actor: Any) -> Iterator[list[ExportRow]]:
    chunk: list[Contact] = []

    def flush() -> list[ExportRow]:
        specs = [
            event_spec(actor=actor, action=Action.CONTACT_EXPORTED, object_type="contact", object_id=contact.pk)
            for contact in chunk
        ]
        audit_record_many(specs, request=request)
        return _rows(chunk)

    for contact in contacts.order_by("id").select_related("organization").iterator(chunk_size=CHUNK):
        chunk.append(contact)
        if len(chunk) >= CHUNK:
            yield flush()
            chunk = []
    if chunk:
        yield flush()


def _fields(row: ExportRow) -> dict[str, str]:
    """The exported values of one contact, with what the person withholds left out."""
    contact, privacy = row.contact, row.privacy

    def shown(attribute: str, value: str) -> str:
        return value if privacy.shows(attribute) else ""

    chosen_name = privacy.name_for(contact)
    # A chosen name (a pseudonym) replaces the legal one everywhere.
    pseudonymous = chosen_name != contact.display_name
    return {
        "name": chosen_name,
        "first_name": "" if pseudonymous else contact.first_name,
        "last_name": "" if pseudonymous else contact.last_name,
        "organization": shown("organization", contact.organization.name if contact.organization else ""),
        "title": shown("title", contact.title),
        "location": shown("location", contact.location),
        "notes": shown("notes", contact.notes),
        "tags": ", ".join(row.tags),
        "created_at": contact.created_at.isoformat(),
        "last_contacted_at": contact.last_contacted_at.isoformat() if contact.last_contacted_at else "",
    }


def csv_lines(contacts: QuerySet[Contact], *, request: HttpRequest, actor: Any) -> Iterator[str]:
    """The CSV export of ``contacts``, line by line (UTF-8 BOM first, so Excel reads the accents)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    for chunk in _chunks(contacts, request, actor):
        lines = []
        for row in chunk:
            values = _fields(row)
            for kind, column in METHOD_COLUMNS:
                values[column] = "; ".join(method.value for method in row.methods_of(kind))
            lines.append(writer.writerow([neutralize(values[column]) for column in CSV_COLUMNS]))
        yield "".join(lines)


# --- vCard 4.0 (RFC 6350) ------------------------------------------------------------------------


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF and a space (never splitting a character)."""
    data = line.encode()
    if len(data) <= 75:
        return line + "\r\n"
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode())
        if size + width > (75 if not parts else 74):
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts) + "\r\n"


def _type_param(label: str) -> str:
    label = "".join(ch for ch in label.lower() if ch.isalnum() or ch == "-")
    return f";TYPE={label}" if label else ""


def vcard(row: ExportRow) -> str:
    """One contact as a vCard 4.0."""
    values = _fields(row)
    lines = ["BEGIN:VCARD", "VERSION:4.0", "KIND:individual", f"FN:{_escape(values['name'])}"]
    lines.append(f"N:{_escape(values['last_name'])};{_escape(values['first_name'])};;;")
    if values["organization"]:
        lines.append(f"ORG:{_escape(values['organization'])}")
    if values["title"]:
        lines.append(f"TITLE:{_escape(values['title'])}")
    for position, method in enumerate(row.methods_of("email")):
        pref = ";PREF=1" if position == 0 else ""
        lines.append(f"EMAIL{_type_param(method.label)}{pref}:{_escape(method.value)}")
    lines += [f"TEL;VALUE=uri{_type_param(m.label)}:tel:{m.normalized}" for m in row.methods_of("phone")]
    lines += [f"URL{_type_param(m.label)}:{_escape(m.value)}" for m in row.methods_of("website")]
    lines += [f"X-SOCIALPROFILE{_type_param(m.label)}:{_escape(m.value)}" for m in row.methods_of("handle")]
    if values["location"]:
        lines.append(f"ADR;LABEL={_quote_param(values['location'])}:;;;;;;")
    if values["tags"]:
        lines.append("CATEGORIES:" + ",".join(_escape(tag) for tag in row.tags))
    if values["notes"]:
        lines.append(f"NOTE:{_escape(values['notes'])}")
    lines += [f"UID:urn:socialcrm:contact:{row.contact.pk}", "END:VCARD"]
    return "".join(_fold(line) for line in lines)


def _quote_param(value: str) -> str:
    # RFC 6868: a parameter value is quoted; quotes and newlines are written as ^' and ^n.
    return '"' + value.replace("^", "^^").replace('"', "^'").replace("\n", "^n") + '"'


def vcard_cards(contacts: QuerySet[Contact], *, request: HttpRequest, actor: Any) -> Iterator[str]:
    """The vCard 4.0 export of ``contacts``, a chunk of cards at a time."""
    for chunk in _chunks(contacts, request, actor):
        yield "".join(vcard(row) for row in chunk)


def encode(lines: Iterable[str]) -> Iterator[bytes]:
    for line in lines:
        yield line.encode()
