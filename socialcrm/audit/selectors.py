"""Reads of the audit trail: the viewer's pages and the chain check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from socialcrm import roles
from socialcrm.audit.filters import AuditEventFilter
from socialcrm.audit.models import GENESIS_HASH, AuditEvent
from socialcrm.pagination import TimeCursor, newest_first

PAGE_SIZE = 50


def may_view_audit(user: Any) -> bool:
    """DPOs and admins read the audit trail (superusers hold every role)."""
    return roles.is_dpo(user)


@dataclass(frozen=True)
class EventPage:
    filterset: AuditEventFilter
    events: list[AuditEvent]
    next_cursor: TimeCursor | None


def audit_event_page(
    *, user: Any, filters: Mapping[str, Any] | None = None, before: TimeCursor | None = None, limit: int = PAGE_SIZE
) -> EventPage:
    """One page of the events ``user`` may see, newest first, matching ``filters``.

    Keyset pagination on (occurred_at, id): ``before`` is the previous page's cursor.
    Users who may not read the trail get an empty page. Two queries at most: the page
    (actors joined) and, when the filter form is rendered, its actor choices.
    """
    events = AuditEvent.objects.select_related("actor") if may_view_audit(user) else AuditEvent.objects.none()
    filterset = AuditEventFilter(filters or {}, queryset=events)
    queryset = filterset.qs if filterset.is_valid() else events.none()
    rows, next_cursor = newest_first(queryset, before=before, limit=limit)
    return EventPage(filterset, rows, next_cursor)


@dataclass(frozen=True)
class ChainReport:
    verified: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def chain_verify(*, chunk_size: int = 2000) -> ChainReport:
    """Walk the whole chain in id order and report the first broken link.

    An edited event fails its own hash check; a deleted (or re-hashed) event makes its
    successor's prev_hash point at nothing. Streams rows, so memory stays constant.
    """
    prev_hash = GENESIS_HASH
    prev_id: int | None = None
    verified = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        if event.prev_hash != prev_hash:
            after = f"event {prev_id}" if prev_id is not None else "the start of the chain"
            return ChainReport(
                verified,
                event.pk,
                f"prev_hash does not match the hash of {after}: an event between them was deleted or altered",
            )
        if event.compute_hash() != event.hash:
            return ChainReport(verified, event.pk, "hash does not match the event's fields: the event was altered")
        prev_hash, prev_id = event.hash, event.pk
        verified += 1
    return ChainReport(verified)
