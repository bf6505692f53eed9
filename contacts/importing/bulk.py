"""Fast inserts for the import's batches: COPY on PostgreSQL, ``bulk_create`` elsewhere;
``fewer_collections`` around the work that builds them; ``write_behind``, which writes
one batch while the next is prepared; and ``refresh_statistics`` for tables an import
outgrows.

Building a model instance per row is most of an ORM bulk insert's cost (100,000 contacts
make ~450,000 rows with their methods, timeline entries and import records). On
PostgreSQL rows go straight from dicts to ``COPY ... FROM STDIN``; every concrete column
is written, with the field's default for those a row does not give, so a field added to a
model later is covered as ``bulk_create`` would cover it. Signals are not sent (as with
``bulk_create``).
"""

from __future__ import annotations

import gc
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection, models
from django.utils import timezone

T = TypeVar("T")


def _column_values(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]]
) -> tuple[list[models.Field[Any, Any]], list[list[Any]]]:
    given = set().union(*rows)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key or field.attname in given]
    now = timezone.now()
    defaults = {
        field.attname: now
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        else field.get_default()
        for field in fields
    }
    # psycopg writes str, int, bool, None and datetimes as they are; JSON goes as its text
    # (the field's own preparation, per value, would be most of the cost).
    json_fields = [(index, field.encoder) for index, field in enumerate(fields) if isinstance(field, models.JSONField)]
    columns = [(field.attname, defaults[field.attname]) for field in fields]
    prepared = []
    for row in rows:
        values = [row.get(attname, default) for attname, default in columns]
        for index, encoder in json_fields:
            values[index] = json.dumps(values[index], cls=encoder)
        prepared.append(values)
    return fields, prepared


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys from the table's sequence (PostgreSQL)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
        return [row[0] for row in cursor.fetchall()]


def insert(model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, ignore_conflicts: bool = False) -> None:
    """Insert ``rows`` ({attname: value}) into ``model``'s table, in the caller's transaction."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows], ignore_conflicts=ignore_conflicts)
        return
    fields, values = _column_values(model, rows)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    with connection.cursor() as cursor:
        if ignore_conflicts:
            # COPY cannot skip conflicting rows: one INSERT of one array per column instead.
            # Only the model's quoted column names and types go into the text.
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"  # noqa: S608
            cursor.execute(sql, [list(column) for column in zip(*values, strict=True)])
            return
        # The raw cursor's COPY: errors are wrapped as Django's, as ``execute`` wraps them, so
        # a unique clash is the IntegrityError that makes the import plan its batch again.
        with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)


def insert_returning_ids(model: type[models.Model], rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their new primary keys, in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return [obj.pk for obj in model._default_manager.bulk_create([model(**row) for row in rows])]
    ids = reserve_ids(model, len(rows))
    insert(model, [{**row, "id": pk} for row, pk in zip(rows, ids, strict=True)])
    return ids


def refresh_statistics(tables: Iterable[type[models.Model]], *, adding: int) -> list[str]:
    """ANALYZE those of ``tables`` whose statistics count fewer rows than ``adding`` (PostgreSQL).

    The plans of foreign key checks and of triggers' queries are made once per connection
    for the table's size as its statistics tell it. Statistics taken while a table was
    empty (a new database, or one emptied by an undone import, once autovacuum has been by)
    make those plans read the whole table for each row written: 100,000 rows into such a
    database made the contact trigger's UPDATE scan ``contacts_activity`` 4,876 times, and
    the import's commit took 34 s instead of 16. Analysing after the first batch gives the
    rest plans for a table that has rows (an ANALYZE invalidates the plans using the table);
    autovacuum comes to it only after its next nap. Returns the tables analysed.
    """
    if connection.vendor != "postgresql":
        return []
    names = [model._meta.db_table for model in tables]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE oid = ANY(%s::regclass[]) AND reltuples < %s ORDER BY relname",
            [names, adding],
        )
        stale = [name for (name,) in cursor.fetchall()]
        if stale:
            cursor.execute("ANALYZE " + ", ".join(map(connection.ops.quote_name, stale)))
    return stale


def check_deferred_constraints() -> None:
    """Run the current transaction's deferred foreign key checks now rather than at its commit (PostgreSQL).

    Elsewhere (SQLite) nothing: they stay at the commit.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@contextmanager
def fewer_collections(threshold: int = 50_000) -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector mostly out of the way.

    Planning and writing 100,000 rows makes millions of short-lived objects; with the
    default thresholds the collector runs full collections over every live object (all of
    Django too) again and again, which measured ~40% of an import's Python time. Here the
    objects alive before are frozen (never scanned) and collections start after
    ``threshold`` allocations instead of 700; both are restored afterwards. Process-wide: a
    concurrent thread only sees fewer collections meanwhile.
    """
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(threshold, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def write_behind(batches: Iterable[T], write: Callable[[T], bool], *, writers: int = 1, depth: int = 1) -> None:
    """``write`` each of ``batches``, until one returns False; on PostgreSQL, in ``writers`` threads.

    Preparing a batch is Python's work and writing it mostly PostgreSQL's: one after the
    other on one connection, each waits for the other. Here writer threads (each with its
    own connection, as Django gives each thread) write batch n (and, with two writers, n+1
    at the same time, on the other core) while this thread prepares the next, at most
    ``depth`` prepared batches waiting. One writer writes the batches in order; more commit
    in the order they finish. A second connection only sees committed rows, so threads are
    used only on PostgreSQL outside a transaction (``atomic``, a test case's): elsewhere,
    and on SQLite, the batches are written here, one after the other, with the same ``write``.

    ``write`` returns False to stop (a cancelled job): the batches after those being written
    are not written and no more are prepared. If it raises, the same, and the error is
    raised here once every thread has stopped; if preparing raises, the batches already
    prepared are written first. Either way the batches written stay, and the threads'
    connections are closed.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        for batch in batches:
            if not write(batch):
                break
        return
    waiting: queue.Queue[tuple[T] | None] = queue.Queue(maxsize=depth)
    stopped = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        item = waiting.get()
        try:
            while item is not None:
                if stopped.is_set() or not write(item[0]):
                    stopped.set()
                    break
                item = waiting.get()
        except BaseException as exc:  # raised again in the preparing thread
            failures.append(exc)
            stopped.set()
        finally:
            connection.close()
        # Stopped early: take what the preparing thread still hands over, up to an end of its own.
        while item is not None:
            item = waiting.get()

    threads = [threading.Thread(target=writer, name="import-writer", daemon=True) for _ in range(writers)]
    for thread in threads:
        thread.start()
    try:
        for batch in batches:
            if stopped.is_set():
                break
            waiting.put((batch,))
    finally:
        for _ in threads:
            waiting.put(None)
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
