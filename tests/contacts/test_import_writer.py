"""The import's writer threads (``contacts.importing.bulk.write_behind``): batches are written
on connections of their own while the next is prepared, on PostgreSQL outside a transaction.

Those tests commit for real (``transaction=True``: the writer's connection only sees committed
rows), so they need PostgreSQL; the rest check that inside a transaction, and on SQLite, the
same writes happen in the calling thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from contacts.importing import bulk
from contacts.models import Contact, ImportedRecord, ImportJob, ImportPlanBatch, Organization
from contacts.services import imports as services

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")

# Eight people, lines 2 to 9: four batches of two.
PEOPLE = "Name,Email\n" + "".join(f"Person {n},person{n}@example.com\n" for n in range(2, 10))


def _queued(actor: Any, team: Any) -> ImportJob:
    job = services.import_preview(actor=actor, team=team, file_name="people.csv", data=PEOPLE.encode())
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    return job


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_batches_are_written_in_order_by_a_thread_with_its_own_connection() -> None:
    main_backend = _backend_pid()
    written: list[tuple[int, str, int]] = []

    def write(n: int) -> bool:
        written.append((n, threading.current_thread().name, _backend_pid()))
        return True

    bulk.write_behind(range(5), write)

    assert [n for n, *_ in written] == [0, 1, 2, 3, 4]
    assert {name for _, name, _ in written} == {"import-writer"}
    assert main_backend not in {pid for *_, pid in written}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_writers_write_each_batch_once_two_at_a_time() -> None:
    # Batches 0 and 1 wait here for each other: each is in a thread of its own.
    together = threading.Barrier(2, timeout=10)
    written: list[tuple[int, int]] = []

    def write(n: int) -> bool:
        if n < 2:
            together.wait()
        written.append((n, threading.get_ident()))
        return True

    bulk.write_behind(range(7), write, writers=2)

    assert sorted(n for n, _ in written) == list(range(7))
    assert len({thread for _, thread in written}) == 2


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_with_two_writers_a_failed_write_stops_both_and_is_raised_to_the_caller() -> None:
    written: list[int] = []

    def write(n: int) -> bool:
        if n == 2:
            raise RuntimeError("disk full")
        written.append(n)
        return True

    with pytest.raises(RuntimeError, match="disk full"):
        bulk.write_behind(range(50), write, writers=2)

    # The other writer's batch (1, and 3 if it took it before the failure) is finished; nothing after.
    assert {0, 1} <= set(written) <= {0, 1, 3}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_failed_write_stops_the_import_and_is_raised_to_the_caller() -> None:
    prepared: list[int] = []
    written: list[int] = []

    def write(n: int) -> bool:
        if n == 2:
            raise RuntimeError("disk full")
        written.append(n)
        return True

    with pytest.raises(RuntimeError, match="disk full"):
        bulk.write_behind(_prepared(prepared), write)

    assert written == [0, 1]
    # Preparing stops soon after: at most the batch waiting, the one being handed over
    # and the one prepared before the failure was seen.
    assert len(prepared) <= 6


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_error_preparing_a_batch_is_raised_once_the_prepared_ones_are_written() -> None:
    written: list[int] = []

    def batches() -> Iterator[int]:
        yield 0
        yield 1
        raise ValueError("unreadable row")

    def write(n: int) -> bool:
        written.append(n)
        return True

    with pytest.raises(ValueError, match="unreadable row"):
        bulk.write_behind(batches(), write)

    assert written == [0, 1]


@pytest.mark.django_db
def test_inside_a_transaction_the_batches_are_written_by_the_calling_thread() -> None:
    threads: list[str] = []

    def write(n: int) -> bool:
        threads.append(threading.current_thread().name)
        return True

    bulk.write_behind(range(3), write)

    assert threads == ["MainThread"] * 3


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_write_saying_stop_ends_the_batches_without_an_error() -> None:
    prepared: list[int] = []
    written: list[int] = []

    def write(n: int) -> bool:
        if n == 2:
            return False  # cancelled
        written.append(n)
        return True

    bulk.write_behind(_prepared(prepared), write)

    assert written == [0, 1]
    assert len(prepared) <= 6


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_threaded_import_writes_two_batches_at_once_with_exact_progress_and_can_be_undone(
    alice, team, monkeypatch
) -> None:
    job = _queued(alice, team)
    # Each batch waits here for the other writer's: batches 0 and 1, then 2 and 3, are written at once.
    together = threading.Barrier(services.WRITERS, timeout=10)
    writers: set[int] = set()
    write = services._Writer.write

    def spy(self: Any, batch: Any) -> None:
        writers.add(threading.get_ident())
        together.wait()
        write(self, batch)

    monkeypatch.setattr(services._Writer, "write", spy)

    services.import_run(job_id=job.pk, batch_size=2)

    assert len(writers) == services.WRITERS == 2
    assert threading.get_ident() not in writers
    # Each batch added itself to the progress as committed by the other: none lost.
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.counts) == ("done", 8, {"create": 8})
    assert Contact.objects.filter(team=team).count() == 8
    assert not ImportPlanBatch.objects.filter(job=job).exists()
    assert services.import_undo(actor=alice, job=job)["deleted"] == 8
    assert not Contact.objects.filter(team=team).exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_write_failing_mid_import_fails_the_job_and_keeps_the_batches_written(alice, team) -> None:
    job = _queued(alice, team)
    # The database refuses the third batch (lines 6 and 7): its import record of line 6. The
    # fourth may be written meanwhile by the other writer; nothing after.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_line_6() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF NEW.line = 6 THEN RAISE EXCEPTION 'refused line 6'; END IF; RETURN NEW; END; $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_line_6 BEFORE INSERT ON contacts_importedrecord"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_line_6()"
        )
    try:
        with pytest.raises(Exception, match="refused line 6"):
            services.import_run(job_id=job.pk, batch_size=2)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_line_6 ON contacts_importedrecord")
            cursor.execute("DROP FUNCTION test_refuse_line_6()")

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "The import stopped: refused line 6" in job.failure
    lines = [2, 3, 4, 5] if job.processed_rows == 4 else [2, 3, 4, 5, 8, 9]
    assert (job.processed_rows, job.counts, job.total_rows) == (len(lines), {"create": len(lines)}, 8)
    # The batches written stay, each contact with the record undo would follow.
    created = Contact.objects.filter(team=team)
    assert sorted(created.values_list("display_name", flat=True)) == [f"Person {n}" for n in lines]
    records = ImportedRecord.objects.filter(job=job, action=ImportedRecord.Action.CREATED)
    assert sorted(records.values_list("line", flat=True)) == lines
    assert set(records.values_list("contact_id", flat=True)) == set(created.values_list("pk", flat=True))
    assert not ImportPlanBatch.objects.filter(job=job).exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_threaded_import_cancelled_while_writing_stops_before_the_next_batch(alice, team, monkeypatch) -> None:
    job = _queued(alice, team)
    write = services._Writer.write
    written: list[int] = []

    def cancelled_during_the_second_batch(self: Any, batch: Any) -> None:
        write(self, batch)
        written.append(len(batch))
        if len(written) == 2:
            services.import_cancel(actor=alice, job=job)

    monkeypatch.setattr(services._Writer, "write", cancelled_during_the_second_batch)

    services.import_run(job_id=job.pk, batch_size=2)

    # At most the batch the other writer was writing follows the cancel.
    assert written[:2] == [2, 2] and len(written) <= 3
    rows = sum(written)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows, job.counts) == ("cancelled", rows, 8, {"create": rows})
    assert Contact.objects.filter(team=team).count() == rows
    assert services.import_undo(actor=alice, job=job)["deleted"] == rows


def _prepared(prepared: list[int], count: int = 20) -> Iterator[int]:
    """Batches 0 to ``count`` - 1, each noted in ``prepared`` as it is prepared."""
    for n in range(count):
        prepared.append(n)
        yield n


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_writers_create_an_organization_both_batches_name_once(alice, team, monkeypatch) -> None:
    data = "Name,Email,Company\n" + "".join(f"Person {n},person{n}@example.com,Acme\n" for n in range(2, 6))
    job = services.import_preview(actor=alice, team=team, file_name="acme.csv", data=data.encode())
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    together = threading.Barrier(services.WRITERS, timeout=10)
    write = services._Writer.write

    def at_once(self: Any, batch: Any) -> None:
        together.wait()
        write(self, batch)

    monkeypatch.setattr(services._Writer, "write", at_once)

    services.import_run(job_id=job.pk, batch_size=2)

    acme = Organization.objects.get(team=team, name="Acme")
    assert set(Contact.objects.filter(team=team).values_list("organization_id", flat=True)) == {acme.pk}
    assert services.import_undo(actor=alice, job=job)["organizations_deleted"] == 1
    assert not Organization.objects.filter(team=team).exists()
