"""Statistics of the tables an import grows (``contacts.importing.bulk.refresh_statistics``).

Plans of foreign key checks and triggers' queries are made for a table's size as its
statistics tell it; an import into tables analysed while empty analyses them once its first
batch is in, so the rest is not planned for empty tables. PostgreSQL only.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from contacts.importing import bulk
from contacts.models import Activity, Contact, ImportJob
from contacts.services import imports as services
from tests.factories import ContactFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics are PostgreSQL's (DATABASE_URL)"),
]

# Five people, lines 2 to 6: three batches of two.
PEOPLE = "Name,Email\n" + "".join(f"Person {n},person{n}@example.com\n" for n in range(2, 7))


def _analyse(*tables: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(tables))


def _counted_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return float(cursor.fetchone()[0])


def test_statistics_counting_fewer_rows_than_are_added_are_taken_again(team) -> None:
    _analyse("contacts_contact")
    ContactFactory.create_batch(4, team=team)

    assert bulk.refresh_statistics([Contact], adding=3) == ["contacts_contact"]

    assert _counted_rows("contacts_contact") == 4


def test_statistics_counting_at_least_the_rows_added_are_left_alone(team) -> None:
    ContactFactory.create_batch(4, team=team)
    _analyse("contacts_contact", "contacts_activity")
    ContactFactory.create_batch(2, team=team)

    assert bulk.refresh_statistics([Contact, Activity], adding=4) == ["contacts_activity"]

    assert _counted_rows("contacts_contact") == 4


def _import(actor: Any, team: Any) -> ImportJob:
    job = services.import_preview(actor=actor, team=team, file_name="people.csv", data=PEOPLE.encode())
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    done = services.import_run(job_id=job.pk, batch_size=2)
    assert done is not None and done.status == ImportJob.Status.DONE
    return done


def test_an_import_into_tables_analysed_empty_analyses_them_after_its_first_batch(alice, team) -> None:
    _analyse("contacts_contact", "contacts_contactmethod")

    _import(alice, team)

    # Counted when the first batch (two people, one email each) was in, not after.
    assert Contact.objects.count() == 5
    assert _counted_rows("contacts_contact") == 2
    assert _counted_rows("contacts_contactmethod") == 2


def test_an_import_smaller_than_the_tables_statistics_leaves_them(alice, team) -> None:
    ContactFactory.create_batch(5, team=team)
    _analyse("contacts_contact")

    _import(alice, team)

    assert Contact.objects.count() == 10
    assert _counted_rows("contacts_contact") == 5
