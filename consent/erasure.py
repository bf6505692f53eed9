"""The one door through which ledger rows may be deleted: erasure of a person.

Two locks guard the consent ledger against deletion and both are opened here, for the
current transaction and for one contact only:

- in Python, a context variable holding the contact's id, that
  ``ConsentEventQuerySet.delete()`` checks;
- on PostgreSQL, the setting ``socialcrm.erasure`` that the ledger's trigger checks
  (migration 0005): it must name the contact whose rows are deleted, so a bug that
  deletes someone else's history while erasing one person is refused. Set with
  ``SET LOCAL`` (``set_config(..., true)``) so it ends with the transaction even if the
  code forgets to reset it.

These guard against application bugs and casual edits, not against someone who can run
SQL as the table's owner (see docs/consent.md, "Threat model").

Use it only from erasure code (``consent.services.consent_events_erase`` and the
personal-data holder); UPDATEs stay forbidden even then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

_erasing: ContextVar[int | None] = ContextVar("consent_erasure", default=None)


def erasing_contact_id() -> int | None:
    """The id of the contact being erased in this context, or None outside erasure."""
    return _erasing.get()


def _set_flag(value: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('socialcrm.erasure', %s, true)", [value])


@contextmanager
def erasure_session(contact_id: int) -> Iterator[None]:
    """Allow deleting ``contact_id``'s ledger rows inside the ``with`` block (inside a transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Erasure must run inside a transaction.")
    _set_flag(str(int(contact_id)))
    token = _erasing.set(int(contact_id))
    try:
        yield
    finally:
        _erasing.reset(token)
    # Closed again on the way out, so the rest of a longer transaction cannot delete. After
    # an error there is nothing to close: the failed block's rollback undoes the SET LOCAL.
    _set_flag("")
