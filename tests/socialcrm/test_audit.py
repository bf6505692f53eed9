"""The audit trail: the hash chain, tamper detection, append-only enforcement, the hooks."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import TextChoices
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from socialcrm.audit import registry
from socialcrm.audit.models import GENESIS_HASH, AppendOnlyError, AuditEvent
from socialcrm.audit.registry import Action
from socialcrm.audit.selectors import chain_verify
from socialcrm.audit.services import _chain_head, audit_append_many, audit_record, event_spec
from socialcrm.roles import Role
from tests.factories import TEST_PASSWORD, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
TABLE = AuditEvent._meta.db_table


def _record_some(actor: Any, count: int = 3) -> list[AuditEvent]:
    return [
        audit_record(actor=actor, action=Action.CONTACT_VIEWED, object_type="contact", object_id=index + 1)
        for index in range(count)
    ]


def _verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def _verify_failure() -> str:
    with pytest.raises(CommandError) as failure:
        _verify()
    return str(failure.value)


def _tamper(sql: str, params: list[Any]) -> None:
    """Run ``sql`` behind the model layer's back (and, on PostgreSQL, past the trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER audit_event_append_only")


# --- the chain ------------------------------------------------------------------------------


def test_each_event_links_to_the_hash_of_the_one_before(dpo: Any):
    start = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS_HASH
    events = _record_some(dpo, 3)

    assert [event.prev_hash for event in events] == [start, events[0].hash, events[1].hash]
    for event in events:
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.hash == stored.compute_hash()
        assert re.fullmatch(r"[0-9a-f]{64}", stored.hash)
    assert AuditEvent.objects.order_by("id").first().prev_hash == GENESIS_HASH  # type: ignore[union-attr]


def test_the_hash_covers_every_field(dpo: Any):
    event = _record_some(dpo, 1)[0]
    original = event.compute_hash()
    for field, value in [
        ("actor_id", dpo.pk + 1),
        ("action", Action.CONTACT_EXPORTED.value),
        ("object_type", "user"),
        ("object_id", "999"),
        ("request_id", uuid.uuid4()),
        ("occurred_at", event.occurred_at.replace(microsecond=(event.occurred_at.microsecond + 1) % 1_000_000)),
        ("prev_hash", "f" * 64),
    ]:
        changed = AuditEvent.objects.get(pk=event.pk)
        setattr(changed, field, value)
        assert changed.compute_hash() != original, field


def test_the_bytes_hashed_never_change():
    # Chains already stored must keep verifying: this is the canonical form, byte for byte.
    viewed = AuditEvent(
        actor_id=7,
        action="contact.viewed",
        object_type="contact",
        object_id="42",
        request_id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        occurred_at=datetime(2026, 1, 2, 4, 4, 5, 6, tzinfo=timezone(timedelta(hours=1))),
        prev_hash=GENESIS_HASH,
    )
    failed = AuditEvent(
        action="user.login_failed", occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), prev_hash="ab" * 32
    )

    assert viewed.canonical() == (
        b'{"action":"contact.viewed","actor_id":7,"object_id":"42","object_type":"contact",'
        b'"occurred_at":"2026-01-02T03:04:05.000006Z","prev_hash":"' + GENESIS_HASH.encode() + b'",'
        b'"request_id":"12345678-1234-5678-1234-567812345678"}'
    )
    assert failed.canonical() == (
        b'{"action":"user.login_failed","actor_id":null,"object_id":"","object_type":"",'
        b'"occurred_at":"2026-01-02T03:04:05.000000Z","prev_hash":"' + b"ab" * 32 + b'","request_id":""}'
    )
    assert viewed.compute_hash() == hashlib.sha256(viewed.canonical()).hexdigest()


def test_events_appended_in_bulk_are_chained_like_the_others(dpo: Any, rf: Any):
    before = _record_some(dpo, 1)[0]
    request = rf.get("/contacts/export.csv")
    request.request_id = uuid.uuid4()
    specs = [
        event_spec(actor=dpo, action=Action.CONTACT_EXPORTED, object_type="contact", object_id=pk) for pk in (5, 6, 7)
    ]

    with CaptureQueriesContext(connection) as queries:
        audit_append_many(specs, request=request)
    after = _record_some(dpo, 1)[0]

    appended = list(AuditEvent.objects.filter(pk__gt=before.pk, pk__lt=after.pk).order_by("id"))
    assert [(event.actor_id, event.action, event.object_type, event.object_id) for event in appended] == [
        (dpo.pk, "contact.exported", "contact", str(pk)) for pk in (5, 6, 7)
    ]
    assert {event.request_id for event in appended} == {request.request_id}
    assert [event.prev_hash for event in [*appended, after]] == [before.hash, *(event.hash for event in appended)]
    assert all(event.hash == event.compute_hash() for event in appended)
    assert chain_verify().ok
    # PostgreSQL: the chain's head, then one COPY (which Django's query log does not see).
    inserts = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == (0 if connection.vendor == "postgresql" else 1)


def test_verify_reports_ok_with_the_number_of_events(dpo: Any):
    _record_some(dpo, 4)

    assert _verify().strip() == f"OK: {AuditEvent.objects.count()} events verified"


def test_verify_streams_across_chunks(dpo: Any):
    _record_some(dpo, 5)

    report = chain_verify(chunk_size=2)

    assert report.ok
    assert report.verified == AuditEvent.objects.count()


def test_verify_fails_at_an_edited_event_and_names_it(dpo: Any, alice: Any):
    events = _record_some(dpo, 4)
    target = events[1]
    # Pretend alice, not the DPO, looked at the contact.
    _tamper("UPDATE audit_auditevent SET actor_id = %s WHERE id = %s", [alice.pk, target.pk])

    message = _verify_failure()

    assert f"audit event {target.pk}:" in message
    assert "hash does not match" in message


def test_verify_fails_when_an_edit_is_rehashed(dpo: Any):
    events = _record_some(dpo, 4)
    target = events[1]
    forged = AuditEvent.objects.get(pk=target.pk)
    forged.object_id = "77"
    _tamper(
        "UPDATE audit_auditevent SET object_id = %s, hash = %s WHERE id = %s", ["77", forged.compute_hash(), target.pk]
    )

    message = _verify_failure()

    # The forged event is self-consistent; its successor no longer links to it.
    assert f"audit event {events[2].pk}:" in message
    assert f"prev_hash does not match the hash of event {target.pk}" in message


def test_verify_detects_a_deleted_event(dpo: Any):
    events = _record_some(dpo, 4)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])

    message = _verify_failure()

    assert f"audit event {events[2].pk}:" in message
    assert f"hash of event {events[0].pk}" in message


def test_verify_detects_a_deleted_first_event(dpo: Any):
    _record_some(dpo, 2)
    first = AuditEvent.objects.order_by("id").first()
    assert first is not None
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [first.pk])

    assert "the start of the chain" in _verify_failure()


def test_two_events_cannot_follow_the_same_event(dpo: Any):
    event = _record_some(dpo, 1)[0]
    fork = AuditEvent(action=Action.USER_LOGIN, occurred_at=event.occurred_at, prev_hash=event.prev_hash)
    fork.hash = fork.compute_hash()

    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()


# --- append-only ----------------------------------------------------------------------------


def test_model_layer_refuses_to_update_or_delete(dpo: Any):
    event = _record_some(dpo, 1)[0]
    event.object_id = "2"

    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(object_id="3")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["object_id"])

    assert AuditEvent.objects.get(pk=event.pk).object_id == "1"


@on_postgresql
@pytest.mark.parametrize(
    "sql", ["UPDATE audit_auditevent SET object_id = '2' WHERE id = %s", "DELETE FROM audit_auditevent WHERE id = %s"]
)
def test_postgresql_trigger_refuses_update_and_delete(sql: str, dpo: Any):
    event = _record_some(dpo, 1)[0]

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])

    assert AuditEvent.objects.filter(pk=event.pk, object_id="1").exists()


@on_postgresql
def test_concurrent_writers_do_not_fork_the_chain(transactional_db: None):
    actor = UserFactory()
    per_thread, threads = 15, 4
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for index in range(per_thread):
                audit_record(actor=actor, action=Action.CONTACT_VIEWED, object_type="contact", object_id=index + 1)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=write) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert AuditEvent.objects.filter(action=Action.CONTACT_VIEWED).count() == per_thread * threads
    assert chain_verify().ok


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@on_postgresql
def test_a_page_view_event_alone_in_its_transaction_commits_without_waiting_for_the_disk(transactional_db: None):
    actor = UserFactory()

    with CaptureQueriesContext(connection) as captured:
        audit_record(actor=actor, action=Action.CONTACT_VIEWED, object_type="contact", object_id=1, durable=False)
        audit_record(actor=actor, action=Action.CONTACT_VIEWED, object_type="contact", object_id=2)

    heads = [query["sql"] for query in captured if "audit_chain_head" in query["sql"]]
    # The relaxed head comes in the same statement: no statement more than a durable event.
    assert len(captured) == 2 * 4  # BEGIN, head, INSERT, COMMIT each
    assert heads[0].endswith("true)") and heads[1].endswith("false)")
    # SET LOCAL semantics: the next transaction waits for the disk again.
    assert _synchronous_commit() == "on"
    assert chain_verify().ok


@on_postgresql
def test_the_relaxed_head_turns_synchronous_commit_off_for_its_transaction_only(transactional_db: None):
    with transaction.atomic():
        _chain_head(relaxed=True)
        assert _synchronous_commit() == "off"
    assert _synchronous_commit() == "on"


@on_postgresql
def test_a_page_view_event_inside_a_callers_transaction_leaves_its_durability_alone(transactional_db: None):
    actor = UserFactory()

    with transaction.atomic():
        audit_record(actor=actor, action=Action.CONTACT_VIEWED, object_type="contact", object_id=1, durable=False)
        assert _synchronous_commit() == "on"


def test_a_deleted_users_id_stays_on_their_events(db: None):
    user = UserFactory()
    event = _record_some(user, 1)[0]

    user.delete()

    stored = AuditEvent.objects.select_related("actor").get(pk=event.pk)
    assert stored.actor_id == event.actor_id
    assert stored.actor is None
    assert chain_verify().ok


# --- what an event may hold ---------------------------------------------------------------


def test_events_have_no_free_text_field():
    # Adding a column here needs a reason: it must not be able to hold personal data.
    assert {field.name for field in AuditEvent._meta.concrete_fields} == {
        "id",
        "actor",
        "action",
        "object_type",
        "object_id",
        "request_id",
        "occurred_at",
        "prev_hash",
        "hash",
    }


@pytest.mark.parametrize("object_id", ["grace@acme.example", "Grace Hopper", "12 Main St", "-1", ""])
def test_object_ids_must_be_integers_or_uuids(object_id: str, dpo: Any):
    before = AuditEvent.objects.count()

    with pytest.raises(ValueError, match="object"):
        audit_record(actor=dpo, action=Action.CONTACT_VIEWED, object_type="contact", object_id=object_id)

    assert AuditEvent.objects.count() == before


def test_object_ids_may_be_uuids(dpo: Any):
    value = uuid.uuid4()

    event = audit_record(actor=dpo, action=Action.DPO_DECISION, object_type="request", object_id=value)

    assert event.object_id == str(value)


@pytest.mark.parametrize("object_type", ["Contact", "contact name", "x" * 41, "1contact"])
def test_object_types_are_short_lowercase_codes(object_type: str, dpo: Any):
    with pytest.raises(ValueError, match="object type"):
        audit_record(actor=dpo, action=Action.CONTACT_VIEWED, object_type=object_type, object_id=1)


def test_unregistered_actions_are_refused(dpo: Any):
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record(actor=dpo, action="contact.veiwed", object_type="contact", object_id=1)


def test_apps_can_register_their_own_actions(dpo: Any):
    class ReminderAction(TextChoices):
        SNOOZED = "test_reminder.snoozed", "Reminder snoozed"

    registry.register_actions(ReminderAction)
    try:
        event = audit_record(actor=dpo, action=ReminderAction.SNOOZED, object_type="reminder", object_id=3)
        assert event.action_label == "Reminder snoozed"
        assert ("test_reminder.snoozed", "Reminder snoozed") in registry.action_choices()
    finally:
        registry._actions.pop("test_reminder.snoozed")


def test_an_action_cannot_be_registered_twice_with_another_meaning():
    class Clash(TextChoices):
        VIEWED = Action.CONTACT_VIEWED.value, "Something else"

    with pytest.raises(ValueError, match="already registered"):
        registry.register_actions(Clash)


# --- request ids ------------------------------------------------------------------------------


def test_each_response_carries_a_request_id_recorded_on_its_events(dpo: Any, client_for: Any):
    response = client_for(dpo).get(reverse("audit:events"))

    request_id = uuid.UUID(response["X-Request-ID"])
    assert AuditEvent.objects.filter(action=Action.AUDIT_VIEWED, request_id=request_id).count() == 1


def test_a_valid_incoming_request_id_is_kept(dpo: Any, client_for: Any):
    incoming = uuid.uuid4()

    response = client_for(dpo).get(reverse("audit:events"), headers={"X-Request-ID": str(incoming)})

    assert response["X-Request-ID"] == str(incoming)
    assert AuditEvent.objects.filter(action=Action.AUDIT_VIEWED, request_id=incoming).exists()


def test_an_invalid_incoming_request_id_is_replaced(db: None, client_for: Any):
    response = client_for(None).get(reverse("account_login"), headers={"X-Request-ID": "<script>"})

    assert uuid.UUID(response["X-Request-ID"])


def test_a_request_that_audits_writes_one_insert_into_the_audit_table(dpo: Any, client_for: Any):
    client = client_for(dpo)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("audit:events"))

    assert response.status_code == 200
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("INSERT")]
    assert [sql for sql in inserts if TABLE in sql] != []
    assert len([sql for sql in inserts if TABLE in sql]) == 1


# --- hooks: sign-ins, roles, teams ----------------------------------------------------------


def _events_for(user: Any, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type="user", object_id=str(user.pk)).order_by("id"))


def _assert_no_email(events: list[AuditEvent], *emails: str) -> None:
    for event in events:
        for field in AuditEvent._meta.concrete_fields:
            value = str(field.value_from_object(event))
            assert "@" not in value, field.name
            for email in emails:
                assert email.split("@")[0] not in value, field.name


def test_signing_in_records_a_login_without_the_email(db: None):
    user = UserFactory(email="erin@staff.example", roles=[Role.SALES])

    response = Client().post(reverse("account_login"), {"login": "erin@staff.example", "password": TEST_PASSWORD})

    assert response.status_code == 302
    events = _events_for(user, Action.USER_LOGIN)
    assert len(events) == 1
    assert events[0].actor_id == user.pk
    assert events[0].request_id is not None
    _assert_no_email(events, "erin@staff.example")


def test_a_failed_sign_in_records_the_account_id_but_not_the_email(db: None):
    user = UserFactory(email="erin@staff.example", roles=[Role.SALES])

    response = Client().post(reverse("account_login"), {"login": "erin@staff.example", "password": "wrong password"})

    assert response.status_code == 200
    events = _events_for(user, Action.USER_LOGIN_FAILED)
    assert len(events) == 1
    assert events[0].actor_id is None
    _assert_no_email(events, "erin@staff.example")


def test_a_failed_sign_in_for_an_unknown_address_records_no_object(db: None):
    Client().post(reverse("account_login"), {"login": "nobody@nowhere.example", "password": "wrong password"})

    events = list(AuditEvent.objects.filter(action=Action.USER_LOGIN_FAILED))
    assert [(event.object_type, event.object_id, event.actor_id) for event in events] == [("", "", None)]
    _assert_no_email(events, "nobody@nowhere.example")


def test_role_changes_are_recorded_from_either_side(db: None):
    user = UserFactory(email="frank@staff.example")
    sales, dpo_group = Group.objects.get(name=Role.SALES.value), Group.objects.get(name=Role.DPO.value)

    user.groups.add(sales)
    dpo_group.user_set.add(user)
    user.groups.remove(sales)
    user.groups.add(dpo_group)  # already held: no change, no event
    user.groups.clear()
    user.groups.clear()  # nothing left to clear

    events = _events_for(user, Action.ROLE_CHANGED)
    assert len(events) == 4
    _assert_no_email(events, "frank@staff.example")


def test_role_changes_in_the_admin_name_the_admin(admin: Any, client_for: Any):
    user = UserFactory(email="gina@staff.example")
    group = Group.objects.get(name=Role.MANAGER.value)
    client = client_for(admin)
    url = reverse("admin:socialcrm_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {
        key: value
        for key, value in {**form.initial, "groups": [group.pk], "is_staff": "on"}.items()
        if value is not None and key not in {"password", "user_permissions", "last_login"}
    }
    data.update({"date_joined_0": "2025-01-01", "date_joined_1": "10:00:00", "is_active": "on"})

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    user.refresh_from_db()
    assert user.is_staff
    assert list(user.groups.all()) == [group]
    events = _events_for(user, Action.ROLE_CHANGED)
    # The groups (one add) and the staff flag.
    assert len(events) == 2
    assert {event.actor_id for event in events} == {admin.pk}
    assert all(event.request_id for event in events)


def test_flag_changes_outside_a_request_are_recorded_without_an_actor(db: None):
    user = UserFactory()

    user.is_superuser = True
    user.save()
    user.first_name = "Renamed"
    user.save()  # no flag changed
    user.save(update_fields=["last_login"])

    events = _events_for(user, Action.ROLE_CHANGED)
    assert [(event.actor_id, event.request_id) for event in events] == [(None, None)]


def test_team_membership_changes_are_recorded_per_user(db: None):
    first, second = UserFactory(), UserFactory()
    team = TeamFactory()

    team.members.add(first, second)
    team.managers.add(first)
    second.teams.remove(team)
    team.managers.clear()

    assert len(_events_for(first, Action.TEAM_MEMBERSHIP_CHANGED)) == 3
    assert len(_events_for(second, Action.TEAM_MEMBERSHIP_CHANGED)) == 2
    assert chain_verify().ok
