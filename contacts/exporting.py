"""Exporting a filtered contact list as CSV or vCard 4.0, for a purpose, streamed in constant memory.

An export is processing for a purpose (for sales outreach, or for marketing email), so it
asks the processing gate first: the ids of the list are read ``CHUNK`` at a time and the
gate decides each chunk in bulk (``gate_allowed_ids``: one query per 1,000 contacts); the
people it refuses are left out and counted (``ContactExport.excluded``, which the view sends
as the ``X-Excluded-Count`` header, before the body; the confirmation page before the
download shows the same counts, from ``export_counts``). Only the allowed ids are kept, in a
compact array (8 bytes a contact), so the stream exports exactly the people the gate allowed.

The stream then reads the allowed contacts ``CHUNK`` at a time as plain values (no model
instances: building them was the largest cost), writes them out and forgets them, so 100,000
contacts take as much memory as 2,000. Each chunk is also where the privacy rules (the name a
person chose, what they withhold) are applied and where the export is written to the audit
trail before it is sent: one event per contact, a chunk's events in one ``COPY`` on
PostgreSQL (``audit_append_many``), so a download cut short is audited for what was actually
sent. Id lists travel as one array parameter (``socialcrm.bulk.among``). The formats
themselves are in ``contacts/export_formats.py``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest

from contacts.export_formats import ExportedMethod, ExportRow, csv_header, csv_rows, vcard
from contacts.models import Contact, ContactMethod
from contacts.registry import contact_privacy_by_id, gate_allowed_ids, processing
from socialcrm.audit.registry import Action
from socialcrm.audit.services import audit_append_many, event_spec
from socialcrm.bulk import among

CHUNK = 2000
# What an export is for: the gate is asked about this purpose for every contact.
EXPORT_PURPOSES = {"sales_outreach": "For sales outreach", "marketing_email": "For marketing email"}
DEFAULT_EXPORT_PURPOSE = "sales_outreach"
FORMATS = ("csv", "vcard")


@dataclass(frozen=True)
class ContactExport:
    """An export ready to stream: ``body`` yields text; ``excluded`` people the gate refused."""

    purpose: str
    exported: int
    excluded: int
    body: Iterator[str]


def _allowed_ids(contacts: QuerySet[Contact], purpose: str) -> tuple[array[int], int]:
    """The ids of ``contacts`` the gate allows for ``purpose``, in id order, and how many it refused."""
    allowed: array[int] = array("q")
    excluded = 0
    chunk: list[int] = []

    def decide() -> None:
        nonlocal excluded
        permitted = gate_allowed_ids(chunk, purpose)
        allowed.extend(pk for pk in chunk if pk in permitted)
        excluded += len(chunk) - len(permitted)

    for pk in contacts.order_by("id").values_list("id", flat=True).iterator(chunk_size=CHUNK):
        chunk.append(pk)
        if len(chunk) >= CHUNK:
            decide()
            chunk = []
    if chunk:
        decide()
    return allowed, excluded


def _iso(text: str | None) -> str:
    """A timestamp the database wrote as text (``2026-01-02 03:04:05.6+00`` on PostgreSQL, whose
    sessions Django keeps in UTC; naive UTC on SQLite) in ISO 8601, as ``datetime.isoformat()``."""
    if not text:
        return ""
    moment = datetime.fromisoformat(text)
    return (moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _rows(ids: list[int]) -> list[ExportRow]:
    """The contacts among ``ids`` (in id order) with their privacy rules, methods and tags, as
    plain values: four queries, no model instances. Timestamps are read as text: psycopg's
    datetime loader as Django wraps it costs ~18 µs a value, parsing the text ~4 µs."""
    privacy = contact_privacy_by_id(ids)
    contacts = (
        Contact.objects.filter(among("id", ids))
        .order_by("id")
        .annotate(created_text=Cast("created_at", TextField()), contacted_text=Cast("last_contacted_at", TextField()))
        .values_list(
            "id",
            "display_name",
            "first_name",
            "last_name",
            "organization__name",
            "title",
            "location",
            "notes",
            "created_text",
            "contacted_text",
        )
    )
    rows = {
        pk: ExportRow(
            pk,
            name,
            first,
            last,
            organization or "",
            title,
            location,
            notes,
            _iso(created),
            _iso(contacted),
            privacy[pk],
        )
        for pk, name, first, last, organization, title, location, notes, created, contacted in contacts
    }
    methods = (
        ContactMethod.objects.filter(among("contact_id", rows))
        .order_by("contact_id", "kind", "-is_primary", "id")
        .values_list("contact_id", "kind", "value", "normalized", "label")
    )
    for contact_id, kind, value, normalized, label in methods:
        rows[contact_id].methods.append(ExportedMethod(kind, value, normalized, label))
    tags = (
        Contact.tags.through.objects.filter(among("contact_id", rows))
        .order_by("tag__name")
        .values_list("contact_id", "tag__name")
    )
    for contact_id, name in tags:
        rows[contact_id].tags.append(name)
    return list(rows.values())


def _chunks(ids: array[int], request: HttpRequest | None, actor: Any) -> Iterator[list[ExportRow]]:
    for start in range(0, len(ids), CHUNK):
        rows = _rows(ids[start : start + CHUNK].tolist())
        specs = [
            event_spec(actor=actor, action=Action.CONTACT_EXPORTED, object_type="contact", object_id=row.pk)
            for row in rows
        ]
        audit_append_many(specs, request=request)
        yield rows


def _csv(ids: array[int], request: HttpRequest | None, actor: Any) -> Iterator[str]:
    yield csv_header()
    for rows in _chunks(ids, request, actor):
        yield csv_rows(rows)


def _vcards(ids: array[int], request: HttpRequest | None, actor: Any) -> Iterator[str]:
    for rows in _chunks(ids, request, actor):
        yield "".join(vcard(row) for row in rows)


# Counting reads the same consent decisions the export acts on, so it is an entry point too.
@processing(purpose="marketing_email")
def export_counts(contacts: QuerySet[Contact], *, purpose: str) -> tuple[int, int]:
    """(exported, left out): how many of ``contacts`` an export for ``purpose`` would write and
    how many the gate refuses, for the confirmation page before the download.

    One query for the list's ids, and the gate's one per 1,000 (its rules are the consent
    app's, in Python: asking it is how the count stays what the download will do).
    """
    if purpose not in EXPORT_PURPOSES:
        raise ValueError(f"Unknown export purpose {purpose!r}.")
    ids, excluded = _allowed_ids(contacts, purpose)
    return len(ids), excluded


# Marked with the purpose the gate matters most for; the export asks about the one it is given.
@processing(purpose="marketing_email")
def contacts_export(
    contacts: QuerySet[Contact], *, fmt: str, purpose: str, request: HttpRequest | None, actor: Any
) -> ContactExport:
    """Export ``contacts`` (already scoped to what ``actor`` sees) as ``fmt`` ("csv" or "vcard")
    for ``purpose`` (a key of ``EXPORT_PURPOSES``).

    The gate is asked about every contact before the first byte (one query per 1,000); the
    ones it refuses are left out and counted. The returned ``body`` streams the others.
    """
    if purpose not in EXPORT_PURPOSES or fmt not in FORMATS:
        raise ValueError(f"Unknown export purpose {purpose!r} or format {fmt!r}.")
    ids, excluded = _allowed_ids(contacts, purpose)
    body = _csv(ids, request, actor) if fmt == "csv" else _vcards(ids, request, actor)
    return ContactExport(purpose=purpose, exported=len(ids), excluded=excluded, body=body)
