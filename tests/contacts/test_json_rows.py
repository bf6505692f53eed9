"""The JSON subqueries the contact page's one query is built from (contacts.selectors)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import OuterRef

from contacts.models import Contact, ContactMethod, Reminder
from contacts.selectors import JSONFields, json_rows, model_json_rows, models_from_json
from tests.factories import ContactFactory, ReminderFactory

pytestmark = pytest.mark.django_db


def test_model_rows_come_back_as_the_instances_a_query_would_load(team: Any, alice: Any):
    contact = ContactFactory(team=team, email="ada@example.com")
    reminder = ReminderFactory(contact=contact, assignee=alice, note="Call back 'soon' \\ \"really\"")
    # Nested in a filtered subquery, as the reminders panel does: the aliases are renamed.
    reminders = Reminder.objects.filter(contact_id=OuterRef("pk"), contact__team=team)
    assignee = JSONFields(email="assignee__email")

    row = Contact.objects.annotate(
        method_rows=model_json_rows(ContactMethod.objects.filter(contact_id=OuterRef("pk"))),
        reminder_rows=model_json_rows(reminders, assignee=assignee),
        value_rows=json_rows(ContactMethod.objects.filter(contact_id=OuterRef("pk")), value="value"),
    ).get(pk=contact.pk)

    [method] = models_from_json(ContactMethod, row.method_rows)
    assert (method.pk, method.value, method.is_primary) == (contact.methods.get().pk, "ada@example.com", True)
    [loaded] = models_from_json(Reminder, row.reminder_rows)
    stored = Reminder.objects.get(pk=reminder.pk)
    assert [getattr(loaded, field.attname) for field in Reminder._meta.concrete_fields] == [
        getattr(stored, field.attname) for field in Reminder._meta.concrete_fields
    ]
    assert row.reminder_rows[0]["assignee"] == {"email": alice.email}
    assert row.value_rows == [{"value": "ada@example.com"}]


@pytest.mark.parametrize("key", ["Name", "a-b", "x'); DROP TABLE t; --", ""])
def test_keys_are_identifiers_only(key: str):
    with pytest.raises(ValueError):
        JSONFields(**{key: "id"})
    with pytest.raises(ValueError):
        JSONFields(columns=[key])
