"""The one door through which ledger rows may be deleted: erasure of a person.

Two locks guard the consent ledger against deletion and both are opened here, for the
current transaction only:

- in Python, a context variable that ``ConsentEventQuerySet.delete()`` checks;
- on PostgreSQL, the session setting ``socialcrm.erasure`` that the ledger's trigger
  checks, set with ``SET LOCAL`` (``set_config(..., true)``) so it ends with the
  transaction even if the code forgets to reset it.

Use it only from erasure code (``consent.services.consent_events_erase`` and the
personal-data holder); UPDATEs stay forbidden even then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

_erasing: ContextVar[bool] = ContextVar("consent_erasure", default=False)


def erasure_in_progress() -> bool:
    return _erasing.get()


@contextmanager
def erasure_session() -> Iterator[None]:
    """Allow deleting ledger rows inside the ``with`` block (must run inside a transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Erasure must run inside a transaction.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('socialcrm.erasure', 'on', true)")
    token = _erasing.set(True)
    try:
        yield
    finally:
        _erasing.reset(token)
    # Closed again on the way out, so the rest of a longer transaction cannot delete. After
    # an error there is nothing to close: the failed block's rollback undoes the SET LOCAL.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('socialcrm.erasure', 'off', true)")
