"""The audit trail: an append-only, hash-chained log of who did what to which object.

An event holds ids only, never personal data values: the actor's user id, an action
code, an object type and id, the request id and the time. Each event's ``hash`` is a
SHA-256 over those fields and the previous event's hash (``prev_hash``), so changing or
removing a stored event breaks the chain at that point (``manage.py audit_verify``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models

from socialcrm.audit.registry import action_label

# prev_hash of the first event.
GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event through the ORM."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    # The actor's id must survive the user's deletion (and no audit row may be updated to
    # NULL it), so the foreign key has no database constraint and Django leaves the rows
    # alone when a user is deleted (DO_NOTHING). One column: the hash covers actor_id,
    # and select_related still shows the actor while the user exists. None means the
    # system or an anonymous visitor (e.g. a failed sign-in).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # A registered action code (socialcrm/audit/registry.py); no choices, so apps can add
    # actions without a migration here.
    action = models.CharField(max_length=64)
    # What the action touched, by type and id only (e.g. "contact", "42"); the service
    # accepts integer or UUID ids only, so no name or email can be stored here.
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # X-Request-ID of the web request (socialcrm/audit/middleware.py); None outside requests.
    request_id = models.UUIDField(null=True, blank=True)
    occurred_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects: ClassVar[AuditEventQuerySet] = AuditEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ("-occurred_at", "-id")
        constraints = [
            # Each event has exactly one successor: two writers that both chained onto the
            # same event (a fork) cannot both commit, even if locking were bypassed.
            models.UniqueConstraint(fields=["prev_hash"], name="audit_event_one_successor"),
        ]
        indexes = [
            # The viewer's keyset order, and its actor and object filters.
            models.Index(fields=["-occurred_at", "-id"], name="audit_event_time_idx"),
            models.Index(fields=["object_type", "object_id", "-occurred_at"], name="audit_event_object_idx"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_event_actor_idx"),
            models.Index(fields=["action", "-occurred_at"], name="audit_event_action_idx"),
        ]

    def __str__(self) -> str:
        target = f" {self.object_type} #{self.object_id}" if self.object_type else ""
        return f"{self.action}{target} by {self.actor_id or 'system'} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    def canonical(self) -> bytes:
        """The bytes the hash covers: every field but the id and the hash, in a fixed form."""
        fields = (self.actor_id, self.action, self.object_type, self.object_id, self.request_id, self.occurred_at)
        return canonical(*fields, self.prev_hash)

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def canonical(
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    request_id: uuid.UUID | str | None,
    occurred_at: datetime,
    prev_hash: str,
) -> bytes:
    """The bytes an event's hash covers, from its fields: JSON with sorted keys, no spaces."""
    return canonical_series(actor_id, action, object_type, request_id, occurred_at)(object_id, prev_hash)


# Stand-ins for the two fields ``canonical_series`` fills in; no other field can hold them
# (actions and object types are short codes, the rest ids and a formatted time).
_OBJECT_ID, _PREV_HASH = "\x00", "\x01"


def canonical_series(
    actor_id: int | None, action: str, object_type: str, request_id: uuid.UUID | str | None, occurred_at: datetime
) -> Callable[[str, str], bytes]:
    """``canonical`` for events sharing every field but the object id and the previous hash
    (``audit_append_many``'s): ``fill(object_id, prev_hash)``. The JSON is written once and
    the two strings are escaped and spliced in per event (a twentieth of ``json.dumps``'s cost).
    """
    fields = {
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": _OBJECT_ID,
        "request_id": str(request_id) if request_id else "",
        "occurred_at": occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "prev_hash": _PREV_HASH,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    # Sorted keys: "object_id" comes before "prev_hash".
    head, rest = text.split(encode_basestring_ascii(_OBJECT_ID))
    middle, tail = rest.split(encode_basestring_ascii(_PREV_HASH))

    def fill(object_id: str, prev_hash: str) -> bytes:
        return (head + encode_basestring_ascii(object_id) + middle + encode_basestring_ascii(prev_hash) + tail).encode()

    return fill
