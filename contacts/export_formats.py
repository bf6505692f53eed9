"""How an export writes a contact: CSV cells and vCard 4.0 cards (no database access).

``contacts/exporting.py`` reads the contacts a chunk at a time, asks the processing gate and
writes the audit trail; this module only turns an ``ExportRow`` into text.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from contacts.registry import ContactPrivacy

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
# Spreadsheets run cells starting with these as formulas (=HYPERLINK(...) exfiltrates data),
# also after leading spaces (Excel and LibreOffice trim them first), and "+44 20..." too: a
# phone number is exported with the apostrophe, which our importer reads back (``unneutralize``).
FORMULA_PREFIXES = ("=", "+", "-", "@")
# A cell starting with a tab or carriage return is also treated as formula-like (OWASP CSV injection).
CONTROL_PREFIXES = ("\t", "\r")
TEXT_MARKER = "'"


def is_formula_like(value: str) -> bool:
    """Whether a spreadsheet could evaluate ``value``: its first non-blank character starts a formula."""
    return value.startswith(CONTROL_PREFIXES) or value.lstrip().startswith(FORMULA_PREFIXES)


def neutralize(value: str) -> str:
    """A cell value a spreadsheet shows as text: formula-like values get a leading apostrophe."""
    # Most cells start with a letter or digit, which settles it (an export has millions of cells).
    if not value or value[0].isalnum():
        return value
    return f"{TEXT_MARKER}{value}" if is_formula_like(value) else value


def unneutralize(value: str) -> str:
    """The inverse of ``neutralize`` for imported cells: ``'+44 20...`` is ``+44 20...`` again.

    Only an apostrophe ``neutralize`` would have added goes (``'Tis`` stays as it is).
    """
    if value.startswith(TEXT_MARKER) and is_formula_like(value[1:]):
        return value[1:]
    return value


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


@dataclass(slots=True)
class ExportRow:
    """One contact with what an export writes about it, read as plain values per chunk
    (timestamps already in ISO 8601, ``""`` for none)."""

    pk: int
    display_name: str
    first_name: str
    last_name: str
    organization: str
    title: str
    location: str
    notes: str
    created_at: str
    last_contacted_at: str
    privacy: ContactPrivacy
    methods: list[ExportedMethod] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def methods_of(self, kind: str) -> list[ExportedMethod]:
        if not self.privacy.shows(kind):
            return []
        return [method for method in self.methods if method.kind == kind]


def csv_header() -> str:
    """The CSV's first line (with a UTF-8 BOM, so Excel reads the accents)."""
    return "\ufeff" + csv.writer(_Echo()).writerow(CSV_COLUMNS)


def csv_rows(rows: list[ExportRow]) -> str:
    """The CSV lines of ``rows``, formula-like cells neutralized."""
    writer = csv.writer(_Echo())
    lines = []
    for row in rows:
        values = _fields(row)
        for kind, column in METHOD_COLUMNS:
            values[column] = "; ".join(method.value for method in row.methods_of(kind))
        lines.append(writer.writerow([neutralize(values[column]) for column in CSV_COLUMNS]))
    return "".join(lines)


def _fields(row: ExportRow) -> dict[str, str]:
    """The exported values of one contact, with what the person withholds left out."""
    privacy = row.privacy

    def shown(attribute: str, value: str) -> str:
        return value if privacy.shows(attribute) else ""

    chosen_name = privacy.name_instead_of(row.display_name)
    # A chosen name (a pseudonym) replaces the legal one everywhere.
    pseudonymous = chosen_name != row.display_name
    return {
        "name": chosen_name,
        "first_name": "" if pseudonymous else row.first_name,
        "last_name": "" if pseudonymous else row.last_name,
        "organization": shown("organization", row.organization),
        "title": shown("title", row.title),
        "location": shown("location", row.location),
        "notes": shown("notes", row.notes),
        "tags": ", ".join(row.tags),
        "created_at": row.created_at,
        "last_contacted_at": row.last_contacted_at,
    }


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
    lines += [f"UID:urn:socialcrm:contact:{row.pk}", "END:VCARD"]
    return "".join(_fold(line) for line in lines)


def _quote_param(value: str) -> str:
    # RFC 6868: a parameter value is quoted; quotes and newlines are written as ^' and ^n.
    return '"' + value.replace("^", "^^").replace('"', "^'").replace("\n", "^n") + '"'
