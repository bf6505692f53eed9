"""The consent demo loader: histories and preferences on the demo team's contacts."""

from __future__ import annotations

from typing import Any

import pytest

from consent.demo import load_demo_consent
from consent.gate import allows
from consent.models import ConsentEvent, PrivacyPreference
from socialcrm.registry import DemoContext, demo_loaders
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def context(team: Any, alice: Any, mona: Any, dpo: Any, admin: Any) -> DemoContext:
    return DemoContext(team=team, sales=alice, manager=mona, dpo=dpo, admin=admin, say=lambda message: None)


def test_the_loader_runs_after_the_contacts_loader() -> None:
    order = {loader.name: loader.order for loader in demo_loaders()}
    assert order["Consent histories and privacy preferences"] > order["Contacts and timelines"]


def test_without_contacts_it_does_nothing(context: DemoContext) -> None:
    load_demo_consent(context)
    assert not ConsentEvent.objects.exists()


def test_loads_grants_a_withdrawal_an_objection_and_preferences_once(context: DemoContext, team: Any) -> None:
    contacts = ContactFactory.create_batch(6, team=team)
    load_demo_consent(context)
    actions = set(ConsentEvent.objects.values_list("action", flat=True))
    assert {"grant", "withdraw", "object"} <= actions
    assert PrivacyPreference.objects.filter(contact__in=contacts).count() == 3
    assert allows(contacts[0], "marketing_email").allowed
    assert not allows(contacts[1], "marketing_email").allowed  # withdrew
    assert "direct marketing" in allows(contacts[2], "offer_targeting").reason  # objected to marketing
    count = ConsentEvent.objects.count()
    load_demo_consent(context)
    assert ConsentEvent.objects.count() == count
