"""rows_update and among: statements about many rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contacts.models import Contact
from socialcrm import bulk
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

EARLY, MIDDLE, LATE = (datetime(2024, 1, day, 9, 30, 15, 250, tzinfo=UTC) for day in (1, 2, 3))


def test_rows_update_sets_given_fields_per_row_and_leaves_the_rest(team: Any, monkeypatch: Any):
    monkeypatch.setattr(bulk, "BATCH", 2)  # three rows: two statements
    first, second, third, other = (ContactFactory(team=team, reply_due_at=MIDDLE) for _ in range(4))

    bulk.rows_update(
        Contact,
        {
            first.pk: {"reply_due_at": LATE, "cadence_due_at": EARLY},
            second.pk: {"reply_due_at": None},  # NULL is a value like any other
            third.pk: {"cadence_due_at": LATE},  # reply_due_at not given: unchanged
        },
    )

    rows = Contact.objects.in_bulk([first.pk, second.pk, third.pk, other.pk])
    assert (rows[first.pk].reply_due_at, rows[first.pk].cadence_due_at) == (LATE, EARLY)
    assert (rows[second.pk].reply_due_at, rows[second.pk].cadence_due_at) == (None, None)
    assert (rows[third.pk].reply_due_at, rows[third.pk].cadence_due_at) == (MIDDLE, LATE)
    assert (rows[other.pk].reply_due_at, rows[other.pk].cadence_due_at) == (MIDDLE, None)


def test_rows_update_keep_latest_only_moves_times_forward(team: Any):
    empty, earlier, later = (ContactFactory(team=team) for _ in range(3))
    Contact.objects.filter(pk=earlier.pk).update(last_contacted_at=EARLY, last_inbound_at=EARLY)
    Contact.objects.filter(pk=later.pk).update(last_contacted_at=LATE)

    bulk.rows_update(
        Contact,
        {
            empty.pk: {"last_contacted_at": MIDDLE},
            earlier.pk: {"last_contacted_at": MIDDLE, "last_inbound_at": None},
            later.pk: {"last_contacted_at": MIDDLE},
        },
        keep_latest=True,
    )

    rows = Contact.objects.in_bulk([empty.pk, earlier.pk, later.pk])
    assert rows[empty.pk].last_contacted_at == MIDDLE
    assert (rows[earlier.pk].last_contacted_at, rows[earlier.pk].last_inbound_at) == (MIDDLE, EARLY)
    assert rows[later.pk].last_contacted_at == LATE


def test_rows_update_with_nothing_to_set_runs_no_query(django_assert_num_queries: Any):
    with django_assert_num_queries(0):
        bulk.rows_update(Contact, {})


def test_among_filters_on_a_list_of_ids(team: Any):
    contacts = ContactFactory.create_batch(4, team=team)
    wanted = [contacts[0].pk, contacts[2].pk, contacts[3].pk + 1000]

    assert sorted(Contact.objects.filter(bulk.among("id", wanted)).values_list("id", flat=True)) == wanted[:2]
    assert not Contact.objects.filter(bulk.among("id", [])).exists()
    # Combined with other conditions, and negated.
    assert list(Contact.objects.filter(bulk.among("pk", wanted), pk__gt=contacts[0].pk)) == [contacts[2]]
    assert Contact.objects.exclude(bulk.among("id", wanted)).count() == 2


def test_among_sends_the_ids_as_one_parameter_on_postgresql(team: Any):
    from django.db import connection

    ids = list(range(1, 2001))
    sql, params = Contact.objects.filter(bulk.among("id", ids)).order_by().query.sql_with_params()

    if connection.vendor == "postgresql":
        assert sql.endswith('WHERE "contacts_contact"."id" = ANY(%s)') and params == (ids,)
    else:
        assert params == tuple(ids)
