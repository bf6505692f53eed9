"""Writing to the audit trail: ``audit_record`` is the one way in."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from socialcrm.audit.middleware import current_request
from socialcrm.audit.models import GENESIS_HASH, AuditEvent, canonical_series
from socialcrm.audit.registry import is_registered

# pg_advisory_xact_lock key that serializes appends to the chain (any fixed bigint that no
# other code uses as a lock key).
CHAIN_LOCK_KEY = 7_262_011_905_414_301

_OBJECT_TYPE = re.compile(r"[a-z][a-z0-9_.]{0,39}")
_INTEGER_ID = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class EventSpec:
    """One event to append, before it is chained."""

    actor_id: int | None
    action: str
    object_type: str = ""
    object_id: str = ""


def _object_id(value: str | int | uuid.UUID) -> str:
    # Ids only: a decimal integer or a UUID. Anything else (a name, an email) is refused, so
    # personal data cannot reach the audit table by mistake.
    text = str(value)
    if _INTEGER_ID.fullmatch(text):
        return text
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ValueError("An audit object id must be an integer or a UUID.") from None


def event_spec(*, actor: Any, action: str, object_type: str = "", object_id: str | int | uuid.UUID = "") -> EventSpec:
    """Validate one event's fields; ValueError for an unregistered action or a non-id object."""
    if not is_registered(action):
        raise ValueError(f"Unknown audit action {action!r}: register it with socialcrm.audit.registry.")
    if object_type and not _OBJECT_TYPE.fullmatch(object_type):
        raise ValueError("An audit object type is a short lowercase code such as 'contact'.")
    if bool(object_type) != (object_id != ""):
        raise ValueError("Give both an object type and an object id, or neither.")
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    return EventSpec(actor_id, action, object_type, _object_id(object_id) if object_type else "")


def _chain_head(*, relaxed: bool = False) -> str:
    """The last event's hash, read so that no other append can slip in before ours.

    Two transactions appending at once would both read the same last hash and fork the
    chain. On PostgreSQL a transaction-level advisory lock serializes appends until commit
    without writing anything (a "chain head" row updated under SELECT ... FOR UPDATE would
    be a second write per event); ``audit_chain_head`` (migration 0003) takes the lock and
    reads the head in one statement, with a snapshot taken after the lock is granted.
    SQLite serializes writing transactions by itself (the settings open them IMMEDIATE).
    The unique prev_hash constraint catches a fork anywhere.

    ``relaxed``: the function also turns ``synchronous_commit`` off for this transaction
    (migration 0004), in the same statement.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT audit_chain_head(%s, %s)", [CHAIN_LOCK_KEY, relaxed])
            head = cursor.fetchone()[0]
    else:
        head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    return head or GENESIS_HASH


# The columns ``_chained`` fills, in its rows' order.
_COLUMNS = ("actor_id", "action", "object_type", "object_id", "request_id", "occurred_at", "prev_hash", "hash")


def _chained(
    specs: Sequence[EventSpec], request: HttpRequest | None, *, relaxed: bool = False
) -> list[tuple[Any, ...]]:
    """``specs`` as rows of ``_COLUMNS``, chained onto the head (which locks the chain on
    PostgreSQL until the caller's transaction ends; ``relaxed``: see ``_chain_head``)."""
    request = request or current_request()
    request_id = getattr(request, "request_id", None)
    prev_hash = _chain_head(relaxed=relaxed)
    # Taken under the lock, so the chain's order (by id) is also the order in time.
    now = timezone.now()
    series: dict[tuple[int | None, str, str], Callable[[str, str], bytes]] = {}
    rows = []
    for spec in specs:
        key = (spec.actor_id, spec.action, spec.object_type)
        fill = series.get(key) or series.setdefault(key, canonical_series(*key, request_id, now))
        row = (*key, spec.object_id, request_id, now, prev_hash)
        prev_hash = hashlib.sha256(fill(spec.object_id, prev_hash)).hexdigest()
        rows.append((*row, prev_hash))
    return rows


def audit_record_many(
    specs: Sequence[EventSpec], *, request: HttpRequest | None = None, durable: bool = True
) -> list[AuditEvent]:
    """Append ``specs`` to the chain in order, with one INSERT statement.

    Runs in the caller's transaction when there is one: the events commit or roll back with
    the change they describe, and on PostgreSQL other appends wait until that commit.

    ``durable=False`` (page views): when the events are alone in their transaction, its
    COMMIT does not wait for the disk (``synchronous_commit`` off). A crash of the database
    server can then lose the last fraction of a second of such events, always a tail of the
    chain, never a gap. Inside a caller's transaction it changes nothing: the caller's
    writes keep their durability.
    """
    if not specs:
        return []
    relaxed = not durable and not transaction.get_connection().in_atomic_block
    # No savepoint inside a caller's transaction: it would cost two more statements per event,
    # and a failed append must fail the caller's change anyway.
    with transaction.atomic(savepoint=False):
        rows = _chained(specs, request, relaxed=relaxed)
        return AuditEvent.objects.bulk_create([AuditEvent(**dict(zip(_COLUMNS, row, strict=True))) for row in rows])


@transaction.atomic(savepoint=False)
def audit_append_many(specs: Sequence[EventSpec], *, request: HttpRequest | None = None) -> None:
    """``audit_record_many`` for thousands of events (an export's chunk, one per contact):
    the same chained rows, written with one ``COPY`` on PostgreSQL and no model instances
    (``audit_record_many`` elsewhere), and nothing returned.
    """
    if connection.vendor != "postgresql":
        audit_record_many(specs, request=request)
        return
    if not specs:
        return
    rows = _chained(specs, request)
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: str | int | uuid.UUID = "",
    request: HttpRequest | None = None,
    durable: bool = True,
) -> AuditEvent:
    """Append one event to the audit trail and return it.

    ``actor`` is the acting user (None or an anonymous user for the system or a visitor).
    ``action`` must be registered (socialcrm/audit/registry.py). ``object_type`` is a short
    code ("contact") and ``object_id`` an integer or UUID id: never a name, email or other
    personal data value (ValueError otherwise). The request id comes from ``request``, or
    from the request being handled when none is given.

    ``durable=False`` is for reads (page views): see ``audit_record_many``.

    Costs two statements: the chain's head (with the advisory lock on PostgreSQL) and one INSERT.
    """
    spec = event_spec(actor=actor, action=action, object_type=object_type, object_id=object_id)
    return audit_record_many([spec], request=request, durable=durable)[0]
