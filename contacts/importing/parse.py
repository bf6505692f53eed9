"""Rows of a detected file as ``ImportRow``s: one person (or company) each, with its line number.

Every format maps onto the same fields; values are only trimmed and split here, not
validated (that is the plan's job, so a bad row is reported, not fatal).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import vobject  # type: ignore[import-untyped]  # no stubs published

from contacts.export_formats import TEXT_MARKER, unneutralize
from contacts.importing.detect import GENERIC, GOOGLE, LINKEDIN, OUTLOOK, VCARD, Detected

# A single field may be as large as a whole upload; the plan reports oversized values as a
# row error instead of the csv module refusing the rest of the file.
csv.field_size_limit(64 * 1024 * 1024)

GOOGLE_SEPARATOR = " ::: "
# Google's system labels: groups every contact is in, not tags anyone chose.
GOOGLE_SYSTEM_LABELS = {"mycontacts", "starred", "friends & family"}

# Targets of the generic CSV's column mapping ("" ignores the column).
TARGETS: dict[str, str] = {
    "": "Ignore",
    "first_name": "First name",
    "last_name": "Last name",
    "name": "Full name",
    "email": "Email",
    "phone": "Phone",
    "website": "Website",
    "handle": "Social handle",
    "organization": "Organization",
    "title": "Role / title",
    "location": "Location",
    "notes": "Notes",
    "tags": "Tags (comma-separated)",
}
# Header names (lower case, without spaces, dashes or underscores) a column is guessed from.
_GUESSES: dict[str, tuple[str, ...]] = {
    "first_name": ("firstname", "givenname", "forename", "vorname", "prenom", "prénom"),
    "last_name": ("lastname", "surname", "familyname", "nachname", "nom"),
    "name": ("name", "fullname", "displayname", "contact", "contactname"),
    "email": ("email", "e-mail", "mail", "emailaddress", "e-mailaddress", "courriel"),
    "phone": ("phone", "telephone", "tel", "mobile", "phonenumber", "telefon"),
    "website": ("website", "url", "web", "homepage", "webpage", "linkedin"),
    "handle": ("handle", "twitter", "mastodon", "bluesky", "github"),
    "organization": ("company", "organization", "organisation", "org", "firma", "employer", "account"),
    "title": ("title", "jobtitle", "position", "role"),
    "location": ("location", "city", "address", "country"),
    "notes": ("notes", "note", "comments", "description"),
    "tags": ("tags", "labels", "groups", "categories", "category"),
}

# Columns of our own export that hold no field to import, though their names contain one
# ("last_contacted_at" is not a contact's name).
_NOT_GUESSED = {"createdat", "updatedat", "lastcontactedat"}

# A generic CSV's cell of contact details (or tags) may hold several, separated.
_METHOD_SEPARATORS = re.compile(r"[,;]\s*|\s+:::\s+")
_TAG_SEPARATORS = re.compile(r"[,;]")
# Each kind of contact method (a mapping target too) and the ``ImportRow`` list of them.
METHOD_LISTS = {"email": "emails", "phone": "phones", "website": "websites", "handle": "handles"}


@dataclass(slots=True)
class Method:
    value: str
    label: str = ""


@dataclass(slots=True)
class ImportRow:
    """One record of the file, normalized to our fields; ``line`` is where it starts (1-based)."""

    line: int
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    organization: str = ""
    title: str = ""
    location: str = ""
    notes: str = ""
    emails: list[Method] = field(default_factory=list)
    phones: list[Method] = field(default_factory=list)
    websites: list[Method] = field(default_factory=list)
    handles: list[Method] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # A company record (a vCard shown as a company, a CSV row with only an organization).
    is_company: bool = False
    # Why the record could not be read (a truncated card, a cut-off last line).
    error: str = ""

    @property
    def name(self) -> str:
        return self.display_name or " ".join(filter(None, (self.first_name, self.last_name)))


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _join_notes(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def _place(*parts: str) -> str:
    return ", ".join(dict.fromkeys(part.strip() for part in parts if part and part.strip()))


def _label(raw: str) -> str:
    return raw.strip().lstrip("*").strip().lower()[:60]


# --- dates kept in the notes (we have no birthday field) ------------------------------------


def _birthday_note(value: str, *, us: bool = False) -> str:
    """ "Birthday: 1985-04-12" or "Birthday: 7 March" (no year, as Google's ``--03-07``)."""
    value = value.strip()
    if not value or value in {"0/0/00", "0/0/0000"}:
        return ""
    if re.fullmatch(r"--\d{2}-?\d{2}", value):
        digits = value.replace("-", "")
        try:
            day = date(2000, int(digits[:2]), int(digits[2:]))
        except ValueError:
            return ""
        return f"Birthday: {day.day} {day:%B}"
    formats = ("%m/%d/%Y", "%m/%d/%y") if us else ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%d/%m/%Y")
    for fmt in formats:
        try:
            return f"Birthday: {datetime.strptime(value[:10], fmt).date().isoformat()}"  # noqa: DTZ007 - a date
        except ValueError:
            continue
    return f"Birthday: {value[:40]}"


def _connected_note(value: str) -> str:
    try:
        day = datetime.strptime(value.strip(), "%d %b %Y").date()  # noqa: DTZ007 - a date
    except ValueError:
        return f"LinkedIn connection since {value.strip()[:40]}" if value.strip() else ""
    return f"LinkedIn connection since {day.isoformat()}"


# --- CSV ---------------------------------------------------------------------------------------

Record = Mapping[str, str]


def _csv_records(detected: Detected) -> Iterator[tuple[int, Record | None, str]]:
    """(line, {header: value}, error) per data row; blank lines are skipped."""
    lines = detected.text.splitlines(keepends=True)
    body = "".join(lines[detected.skip_lines + 1 :])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=detected.delimiter)
    headers = [header.strip() for header in detected.headers]
    # A file cut off mid-row ends without a newline, its last row short of columns.
    cut_off = bool(body) and not body.endswith(("\n", "\r"))
    line = detected.skip_lines + 2
    # One row of lookahead: only the last row can be a cut-off one.
    pending: tuple[int, Record, bool] | None = None
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if pending is not None:
                yield pending[0], pending[1], ""
            yield line, None, f"The file could not be read from here on ({exc})."
            return
        if pending is not None:
            yield pending[0], pending[1], ""
            pending = None
        if any(map(str.strip, values)):
            # A spreadsheet's (or our export's) text marker before a formula-like value goes.
            values = [unneutralize(value) if value.startswith(TEXT_MARKER) else value for value in values]
            pending = (line, dict(zip(headers, values, strict=False)), len(values) < len(headers))
        line = detected.skip_lines + 2 + reader.line_num
    if pending is not None:
        start, record, short = pending
        if short and cut_off:
            yield start, None, "The file ends in the middle of this row: it looks cut off."
        else:
            yield start, record, ""


def _values(record: Record, column: str) -> list[str]:
    return [part.strip() for part in record.get(column, "").split(GOOGLE_SEPARATOR) if part.strip()]


def _linkedin(line: int, record: Record) -> ImportRow:
    row = ImportRow(
        line,
        first_name=_clean(record.get("First Name")),
        last_name=_clean(record.get("Last Name")),
        organization=_clean(record.get("Company")),
        title=_clean(record.get("Position")),
        notes=_connected_note(record.get("Connected On", "")),
    )
    if _clean(record.get("Email Address")):
        row.emails.append(Method(_clean(record.get("Email Address"))))
    if _clean(record.get("URL")):
        row.websites.append(Method(_clean(record.get("URL")), "linkedin"))
    return row


def _google_methods(record: Record, kind: str) -> list[Method]:
    """Google's numbered "<Kind> N - Label/Value" pairs; a "* " label marks the primary one."""
    primary: list[Method] = []
    others: list[Method] = []
    for number in range(1, 20):
        values = _values(record, f"{kind} {number} - Value")
        if not values and f"{kind} {number} - Value" not in record:
            break
        raw_label = record.get(f"{kind} {number} - Label", "") or record.get(f"{kind} {number} - Type", "")
        target = primary if raw_label.strip().startswith("*") else others
        # Several values in one cell share the label; the first one is the primary.
        for index, value in enumerate(values):
            (target if index == 0 else others).append(Method(value, _label(raw_label)))
    return primary + others


def _google(line: int, record: Record) -> ImportRow:
    labels = _values(record, "Labels") or _values(record, "Group Membership")
    address_city = _clean(record.get("Address 1 - City"))
    row = ImportRow(
        line,
        first_name=_clean(record.get("First Name") or record.get("Given Name")),
        last_name=_clean(record.get("Last Name") or record.get("Family Name")),
        organization=_clean(record.get("Organization Name") or record.get("Organization 1 - Name")),
        title=_clean(record.get("Organization Title") or record.get("Organization 1 - Title")),
        location=_place(
            address_city, _clean(record.get("Address 1 - Region")), _clean(record.get("Address 1 - Country"))
        ),
        notes=_join_notes(_clean(record.get("Notes")), _birthday_note(record.get("Birthday", ""))),
        emails=_google_methods(record, "E-mail"),
        phones=_google_methods(record, "Phone"),
        websites=_google_methods(record, "Website"),
        tags=[
            label.lstrip("*").strip()
            for label in labels
            if label.lstrip("*").strip().lower() not in GOOGLE_SYSTEM_LABELS
        ],
    )
    return row


_OUTLOOK_PHONES = (
    ("Business Phone", "work"),
    ("Business Phone 2", "work"),
    ("Mobile Phone", "mobile"),
    ("Home Phone", "home"),
    ("Home Phone 2", "home"),
    ("Company Main Phone", "work"),
    ("Other Phone", "other"),
    ("Primary Phone", ""),
)


def _outlook(line: int, record: Record) -> ImportRow:
    emails = [record.get(column, "") for column in ("E-mail Address", "E-mail 2 Address", "E-mail 3 Address")]
    row = ImportRow(
        line,
        first_name=_clean(record.get("First Name")),
        last_name=_clean(record.get("Last Name")),
        organization=_clean(record.get("Company")),
        title=_clean(record.get("Job Title")),
        location=_place(
            _clean(record.get("Business City")) or _clean(record.get("Home City")),
            _clean(record.get("Business State")) or _clean(record.get("Home State")),
            _clean(record.get("Business Country/Region")) or _clean(record.get("Home Country/Region")),
        ),
        notes=_join_notes(_clean(record.get("Notes")), _birthday_note(record.get("Birthday", ""), us=True)),
        emails=[Method(email.strip()) for email in emails if email.strip()],
        phones=[
            Method(_clean(record.get(column)), label) for column, label in _OUTLOOK_PHONES if _clean(record.get(column))
        ],
        websites=[
            Method(_clean(record.get(column)))
            for column in ("Web Page", "Personal Web Page")
            if _clean(record.get(column))
        ],
        tags=[tag.strip() for tag in _TAG_SEPARATORS.split(record.get("Categories", "")) if tag.strip()],
    )
    return row


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """A first guess at what each column of a generic CSV holds."""
    mapping = {}
    for header in headers:
        key = re.sub(r"[\s_\-.]", "", header.lower())
        if key in _NOT_GUESSED:
            mapping[header] = ""
            continue
        target = next((target for target, names in _GUESSES.items() if key in {n.replace("-", "") for n in names}), "")
        if not target:
            target = next((target for target, names in _GUESSES.items() if any(name in key for name in names)), "")
        mapping[header] = target
    return mapping


def _generic(mapping: Mapping[str, str]) -> Callable[[int, Record], ImportRow]:
    targets = {header: target for header, target in mapping.items() if target}

    def build(line: int, record: Record) -> ImportRow:
        row = ImportRow(line)
        notes: list[str] = []
        for header, value in record.items():
            target = targets.get(header)
            if target is None or not (value := value.strip()):
                continue
            if target in METHOD_LISTS:
                parts = _METHOD_SEPARATORS.split(value)
                methods = getattr(row, METHOD_LISTS[target])
                if len(parts) == 1:  # most cells hold one (stripped already)
                    methods.append(Method(value))
                else:
                    methods.extend([Method(part) for part in map(str.strip, parts) if part])
            elif target == "tags":
                row.tags.extend([tag for tag in map(str.strip, _TAG_SEPARATORS.split(value)) if tag])
            elif target == "notes":
                notes.append(value)
            elif target == "name":
                row.display_name = value
            elif target == "location":
                row.location = _place(row.location, value)
            else:
                setattr(row, target, getattr(row, target) or value)
        if notes:
            row.notes = _join_notes(*notes)
        return row

    return build


# --- vCard ------------------------------------------------------------------------------------

_CARD_START = re.compile(r"^BEGIN:VCARD\s*$", re.IGNORECASE)
_CARD_END = re.compile(r"^END:VCARD\s*$", re.IGNORECASE)
# Apple's "_$!<HomePage>!$_" labels.
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")
_NOT_LABELS = {"internet", "pref", "voice", "x400", "text"}


def _card_blocks(text: str) -> Iterator[tuple[int, str, str]]:
    """(line of BEGIN, card text, error) per card; a card without END is reported, not parsed."""
    start: int | None = None
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _CARD_START.match(line):
            if start is not None:
                yield start, "", "This card has no END:VCARD line (the file may be cut off)."
            start, lines = number, [line]
        elif start is not None:
            lines.append(line)
            if _CARD_END.match(line):
                yield start, "\r\n".join(lines) + "\r\n", ""
                start, lines = None, []
    if start is not None:
        yield start, "", "This card has no END:VCARD line (the file may be cut off)."


def _params(prop: vobject.base.ContentLine, name: str) -> list[str]:
    values: list[str] = []
    for raw in prop.params.get(name, []):
        values.extend(part.strip().strip('"') for part in str(raw).split(","))
    return [value for value in values if value]


def _vcard_label(prop: vobject.base.ContentLine, group_labels: Mapping[str, str]) -> str:
    if prop.group and prop.group in group_labels:
        return group_labels[prop.group]
    types = [value.lower() for value in _params(prop, "TYPE") if value.lower() not in _NOT_LABELS]
    return types[0][:60] if types else ""


def _is_preferred(prop: vobject.base.ContentLine) -> bool:
    return "pref" in {value.lower() for value in _params(prop, "TYPE")} or _params(prop, "PREF")[:1] == ["1"]


def _vcard_methods(
    props: list[vobject.base.ContentLine], group_labels: Mapping[str, str], strip: str = ""
) -> list[Method]:
    methods = []
    for prop in sorted(props, key=lambda prop: not _is_preferred(prop)):
        value = str(prop.value).strip()
        if strip and value.lower().startswith(strip):
            value = value[len(strip) :]
        if value:
            methods.append(Method(value, _vcard_label(prop, group_labels)))
    return methods


def _text(card: vobject.base.Component, name: str) -> str:
    prop = card.contents.get(name.lower(), [None])[0]
    if prop is None:
        return ""
    value = prop.value
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


def _vcard_row(line: int, card: vobject.base.Component) -> ImportRow:
    contents = card.contents
    group_labels: dict[str, str] = {}
    for prop in contents.get("x-ablabel", []):
        match = _APPLE_LABEL.match(str(prop.value))
        group_labels[prop.group] = (match.group(1) if match else str(prop.value)).strip().lower()[:60]
    name = contents.get("n", [None])[0]
    address = contents.get("adr", [None])[0]
    kind = _text(card, "KIND").lower()
    row = ImportRow(
        line,
        first_name=str(getattr(name.value, "given", "") or "").strip() if name else "",
        last_name=str(getattr(name.value, "family", "") or "").strip() if name else "",
        display_name=_text(card, "FN"),
        organization=_text(card, "ORG"),
        title=_text(card, "TITLE"),
        location=_place(address.value.city, address.value.region, address.value.country) if address else "",
        notes=_join_notes(_text(card, "NOTE"), _birthday_note(_text(card, "BDAY"))),
        emails=_vcard_methods(contents.get("email", []), group_labels),
        phones=_vcard_methods(contents.get("tel", []), group_labels, strip="tel:"),
        websites=_vcard_methods(contents.get("url", []), group_labels),
        tags=[str(tag).strip() for prop in contents.get("categories", []) for tag in prop.value if str(tag).strip()],
        is_company=_text(card, "X-ABSHOWAS").upper() == "COMPANY" or kind == "org",
    )
    for prop in contents.get("x-socialprofile", []):
        network = (_params(prop, "TYPE") or ["social"])[0].lower()[:60]
        row.handles.append(Method(str(prop.value).strip(), network))
    for prop in contents.get("impp", []):
        scheme, _, address_value = str(prop.value).strip().partition(":")
        row.handles.append(Method(address_value or scheme, scheme.lower()[:60] if address_value else ""))
    return row


def _vcard_rows(text: str) -> Iterator[ImportRow]:
    for line, block, error in _card_blocks(text):
        if error:
            yield ImportRow(line, error=error)
            continue
        try:
            card = vobject.readOne(block)
            yield _vcard_row(line, card)
        except Exception as exc:  # vobject raises many unrelated types on malformed cards
            yield ImportRow(line, error=f"This card could not be read ({str(exc)[:200]}).")


# --- entry point ---------------------------------------------------------------------------------

_BUILDERS: dict[str, Callable[[int, Record], ImportRow]] = {LINKEDIN: _linkedin, GOOGLE: _google, OUTLOOK: _outlook}


def parse_rows(detected: Detected, mapping: Mapping[str, str] | None = None) -> Iterator[ImportRow]:
    """Every record of the file in order. Generic CSVs need ``mapping`` ({header: target})."""
    if detected.format == VCARD:
        yield from _vcard_rows(detected.text)
        return
    build = _generic(mapping or {}) if detected.format == GENERIC else _BUILDERS[detected.format]
    for line, record, error in _csv_records(detected):
        yield ImportRow(line, error=error) if record is None else build(line, record)
