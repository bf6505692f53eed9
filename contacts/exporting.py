"""Exporting a filtered contact list as CSV or vCard 4.0, for a purpose, streamed in constant memory.

An export is processing for a purpose (for sales outreach, or for marketing email), so it
asks the processing gate first: the ids of the list are read ``CHUNK`` at a time and the
gate decides each chunk in bulk (``gate_allowed_ids``: one query per 1,000 contacts); the
people it refuses are left out and counted (``ContactExport.excluded``, which the view sends
as the ``X-Excluded-Count`` header, before the body; the confirmation page before the
download shows the same counts, from ``export_counts``). Only the allowed ids are kept, in a
compact array (8 bytes a contact), so the stream exports exactly the people the gate allowed.

The stream then reads the allowed contacts ``CHUNK`` at a time (methods and tags as plain
tuples), writes them out and forgets them, so 100,000 contacts take as much memory as 2,000.
Each chunk is also where the privacy rules (the name a person chose, what they withhold)
are applied and where the export is written to the audit trail: one event per contact, all
of a chunk's events in one INSERT, so a download cut short is audited for what was actually
sent. The formats themselves are in ``contacts/export_formats.py``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from contacts.export_formats import ExportedMethod, ExportRow, csv_header, csv_rows, vcard
from contacts.models import Contact, ContactMethod
from contacts.registry import contact_privacy_for, gate_allowed_ids, processing
from socialcrm.audit.registry import Action
from socialcrm.audit.services import audit_record_many, event_spec

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


def _chunks(ids: array[int], request: HttpRequest | None, actor: Any) -> Iterator[list[ExportRow]]:
    for start in range(0, len(ids), CHUNK):
        batch = ids[start : start + CHUNK].tolist()
        chunk = list(Contact.objects.filter(pk__in=batch).select_related("organization").order_by("id"))
        specs = [
            event_spec(actor=actor, action=Action.CONTACT_EXPORTED, object_type="contact", object_id=contact.pk)
            for contact in chunk
        ]
        audit_record_many(specs, request=request)
        yield _rows(chunk)


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
