"""What consent plugs into contacts: privacy rules for views and exports, badges, the holder."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from consent.models import ConsentEvent, ConsentState, PrivacyPreference
from consent.selectors import unlinked_networks, withheld_fields
from contacts.registry import (
    NO_PRIVACY_RULES,
    ContactPrivacy,
    contact_badges_for,
    contact_privacy,
    contact_privacy_by_id,
    contact_privacy_for,
    personal_data_holders,
)
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_privacy_hook_gives_the_pseudonym_and_withheld_attributes(team: Any) -> None:
    contact = ContactFactory(team=team, display_name="Rosa Parkes")
    PrivacyPreference.objects.create(
        contact=contact, identify_by="pseudonym", pseudonym="R. P.", withheld_attributes=["email", "phone"]
    )
    rules = contact_privacy(contact)
    assert rules == ContactPrivacy(display_name="R. P.", withheld=frozenset({"email", "phone"}))
    assert rules.name_for(contact) == "R. P."
    assert not rules.shows("email") and rules.shows("title")
    assert withheld_fields(contact) == frozenset({"email", "phone"})


def test_a_pseudonym_is_used_only_when_the_person_chose_to_be_identified_by_it(team: Any) -> None:
    contact = ContactFactory(team=team, display_name="Rosa Parkes")
    PrivacyPreference.objects.create(contact=contact, identify_by="name", pseudonym="R. P.")
    assert contact_privacy(contact).name_for(contact) == "Rosa Parkes"


@pytest.mark.parametrize("size", [2, 20])
def test_privacy_rules_for_a_list_are_one_query(size: int, team: Any, django_assert_num_queries: Any) -> None:
    contacts = ContactFactory.create_batch(size, team=team)
    PrivacyPreference.objects.create(contact=contacts[0], withheld_attributes=["notes"])
    # 1. the preference rows of the page's contacts.
    with django_assert_num_queries(1):
        rules = contact_privacy_for(contacts)
    assert rules[contacts[0].pk].withheld == {"notes"}
    assert all(rules[contact.pk] == NO_PRIVACY_RULES for contact in contacts[1:])


def test_privacy_rules_by_id_are_the_same_rules_in_one_query(team: Any, django_assert_num_queries: Any) -> None:
    contacts = ContactFactory.create_batch(3, team=team)
    PrivacyPreference.objects.create(
        contact=contacts[0], identify_by="pseudonym", pseudonym="R. P.", withheld_attributes=["email"]
    )
    PrivacyPreference.objects.create(contact=contacts[1], identify_by="name", pseudonym="Unused")
    ids = [contact.pk for contact in contacts]
    # 1. the preference rows of the ids (exports read no Contact instances).
    with django_assert_num_queries(1):
        by_id = contact_privacy_by_id(ids)
    assert by_id == contact_privacy_for(contacts)
    assert by_id[ids[0]] == ContactPrivacy(display_name="R. P.", withheld=frozenset({"email"}))
    assert by_id[ids[1]] == by_id[ids[2]] == NO_PRIVACY_RULES


def test_unlinked_networks_are_there_for_enrichment_to_read(team: Any) -> None:
    contact = ContactFactory(team=team)
    assert unlinked_networks(contact) == frozenset()
    PrivacyPreference.objects.create(contact=contact, unlinked_networks=["github"])
    assert unlinked_networks(contact) == {"github"}


@pytest.mark.parametrize("size", [2, 20])
def test_consent_badges_for_a_list_are_one_query(
    size: int, team: Any, record: Any, django_assert_num_queries: Any
) -> None:
    contacts = ContactFactory.create_batch(size, team=team)
    record(contacts[0], "marketing_email", "grant")
    record(contacts[0], "enrichment", "object")
    record(contacts[1], "sentiment_analysis", "grant")
    record(contacts[1], "sentiment_analysis", "withdraw")
    from consent.gate import purposes

    purposes()
    # 1. the state rows of the page's contacts.
    with django_assert_num_queries(1):
        badges = contact_badges_for(contacts)
    assert [(badge.label, badge.tone) for badge in badges[contacts[0].pk]] == [
        ("Marketing email: granted", "success"),
        ("Profile enrichment: objected", "danger"),
    ]
    assert [badge.tone for badge in badges[contacts[1].pk]] == ["warning"]
    assert all(badges[contact.pk] == [] for contact in contacts[2:])


def _holder() -> Any:
    return next(holder for holder in personal_data_holders() if holder.name == "consent")


def test_the_holder_covers_the_consent_models_and_exports_them(team: Any, record: Any) -> None:
    contact = ContactFactory(team=team)
    event = record(contact, "marketing_email", "grant", notice_version="2026-01")
    PrivacyPreference.objects.create(contact=contact, do_not_contact=True)
    holder = _holder()
    assert set(holder.models) == {ConsentEvent, ConsentState, PrivacyPreference}
    exported = holder.export(contact)
    assert exported["consent_events"][0]["receipt_id"] == str(event.receipt_id)
    assert exported["consent_states"][0] == {
        "purpose": "marketing_email",
        "consent": "granted",
        "lawful_basis": "consent",
        "objected": False,
        "restricted": False,
        "since": event.occurred_at.isoformat(),
    }
    assert exported["privacy_preferences"]["do_not_contact"] is True


def test_the_holder_erases_everything_it_covers(team: Any, record: Any) -> None:
    contact = ContactFactory(team=team)
    record(contact, "marketing_email", "grant")
    PrivacyPreference.objects.create(contact=contact)
    with transaction.atomic():
        _holder().erase(contact)
    assert not ConsentEvent.objects.filter(contact=contact).exists()
    assert not ConsentState.objects.filter(contact=contact).exists()
    assert not PrivacyPreference.objects.filter(contact=contact).exists()
