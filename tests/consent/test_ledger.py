"""The consent ledger: append-only at every layer, state and timeline kept with it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models.deletion import ProtectedError

from consent.erasure import erasure_session
from consent.models import AppendOnlyError, ConsentEvent, ConsentState, PrivacyPreference
from consent.services import consent_events_erase
from contacts.models import Activity, Contact
from socialcrm.audit.models import AuditEvent
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the ledger's trigger is PostgreSQL's")


@pytest.fixture
def event(team: Any, record: Any) -> ConsentEvent:
    return record(ContactFactory(team=team), "marketing_email", "grant", notice_version="2026-01")


def test_recording_appends_an_event_and_moves_the_state(event: ConsentEvent, alice: Any, record: Any) -> None:
    state = ConsentState.objects.get(contact=event.contact, purpose=event.purpose)
    assert (state.consent, state.lawful_basis, state.source, state.last_event) == ("granted", "consent", "email", event)
    record(event.contact, "marketing_email", "withdraw")
    state.refresh_from_db()
    assert state.consent == "withdrawn"
    assert ConsentEvent.objects.filter(contact=event.contact).count() == 2
    assert ConsentState.objects.filter(contact=event.contact).count() == 1


def test_recording_writes_the_timeline_and_an_audit_row_without_personal_data(event: ConsentEvent, alice: Any) -> None:
    activity = Activity.objects.get(contact=event.contact, kind=Activity.Kind.CONSENT_CHANGED)
    assert activity.subject == "Marketing email: consent given"
    assert activity.actor == alice
    audit = AuditEvent.objects.filter(action="consent.changed").latest("id")
    assert (audit.actor_id, audit.object_type, audit.object_id) == (alice.pk, "contact", str(event.contact_id))


def test_the_model_refuses_to_change_or_delete_an_event(event: ConsentEvent) -> None:
    event.evidence = "Something else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.filter(pk=event.pk).update(evidence="x")
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.filter(pk=event.pk).delete()
    assert ConsentEvent.objects.get(pk=event.pk).evidence == "The person's email of today."


def test_a_contact_with_a_ledger_cannot_be_deleted_except_by_erasure(event: ConsentEvent) -> None:
    with pytest.raises(ProtectedError):
        Contact.objects.filter(pk=event.contact_id).delete()


def test_erasure_removes_the_ledger_states_and_preferences(event: ConsentEvent) -> None:
    PrivacyPreference.objects.create(contact=event.contact, do_not_contact=True)
    with transaction.atomic():
        assert consent_events_erase(event.contact) == 1
    assert not ConsentEvent.objects.filter(contact=event.contact_id).exists()
    assert not ConsentState.objects.filter(contact=event.contact_id).exists()
    assert not PrivacyPreference.objects.filter(contact=event.contact_id).exists()
    Contact.objects.filter(pk=event.contact_id).delete()  # nothing protects it any more


@on_postgresql
def test_postgresql_refuses_update_and_delete_in_raw_sql(event: ConsentEvent) -> None:
    for sql in (
        "UPDATE consent_consentevent SET evidence = 'forged' WHERE id = %s",
        "DELETE FROM consent_consentevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert ConsentEvent.objects.get(pk=event.pk).evidence == "The person's email of today."


@on_postgresql
def test_postgresql_allows_delete_only_inside_the_erasure_session(event: ConsentEvent) -> None:
    update = "UPDATE consent_consentevent SET evidence = 'forged' WHERE id = %s"
    delete = "DELETE FROM consent_consentevent WHERE id = %s"
    with (
        transaction.atomic(),
        erasure_session(event.contact_id),
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(update, [event.pk])  # erasure deletes; it never rewrites history
    # The session closes the door behind it, even inside a longer transaction.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(delete, [event.pk])
    with transaction.atomic(), erasure_session(event.contact_id), connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_consentstate WHERE contact_id = %s", [event.contact_id])
        cursor.execute(delete, [event.pk])
    assert not ConsentEvent.objects.filter(pk=event.pk).exists()


def test_the_erasure_session_of_one_contact_cannot_delete_another_contacts_ledger(
    event: ConsentEvent, team: Any, record: Any
) -> None:
    other = record(ContactFactory(team=team), "marketing_email", "grant")
    with pytest.raises(AppendOnlyError), transaction.atomic(), erasure_session(event.contact_id):
        ConsentEvent.objects.filter(pk__in=[event.pk, other.pk]).delete()
    assert ConsentEvent.objects.filter(pk__in=[event.pk, other.pk]).count() == 2


@on_postgresql
def test_postgresql_refuses_deleting_another_contacts_events_with_the_flag_set_for_one(
    event: ConsentEvent, team: Any, record: Any
) -> None:
    other = record(ContactFactory(team=team), "marketing_email", "grant")
    delete = "DELETE FROM consent_consentevent WHERE id = %s"
    for flag in (str(event.contact_id), "on"):  # 'on' was the old, any-contact flag
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL socialcrm.erasure = %s", [flag])
            cursor.execute(delete, [other.pk])
    assert ConsentEvent.objects.filter(pk=other.pk).exists()
