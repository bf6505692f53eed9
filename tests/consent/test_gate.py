"""The processing gate: a state machine over every action sequence, preferences, suppression."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import gate
from consent.models import ConsentEvent, LawfulBasis, Purpose
from consent.services import preference_update, suppression_add
from contacts.models import Contact
from contacts.registry import gate_allows
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# The seeded catalogue, written out independently of the code: (default basis, direct
# marketing, profiling). The model below derives its expectations from this table only.
CATALOGUE = {
    "sales_outreach": ("legitimate_interests", True, False),
    "marketing_email": ("consent", True, False),
    "enrichment": ("legitimate_interests", False, False),
    "social_listening": ("legitimate_interests", False, False),
    "sentiment_analysis": ("consent", False, True),
    "offer_targeting": ("consent", True, True),
    "influence_measurement": ("legitimate_interests", False, True),
    "customer_support": ("contract", False, False),
}
ACTIONS = [choice.value for choice in ConsentEvent.Action]


def test_the_seeded_catalogue_is_the_one_the_model_assumes() -> None:
    seeded = {p.code: (p.lawful_basis, p.is_direct_marketing, p.is_profiling) for p in Purpose.objects.all()}
    assert seeded == CATALOGUE


class Expected:
    """The gate's contract, modelled from scratch: per purpose, what the person said."""

    def __init__(self) -> None:
        self.consent: dict[str, str | None] = dict.fromkeys(CATALOGUE)
        self.objected: set[str] = set()
        self.restricted: set[str] = set()

    def apply(self, code: str, action: str) -> None:
        if action == "grant":
            self.consent[code] = "granted"
            self.objected.discard(code)  # a fresh consent replaces an earlier objection to it
        elif action == "withdraw":
            self.consent[code] = "withdrawn"
        elif action == "object":
            self.objected.add(code)
        elif action == "restrict":
            self.restricted.add(code)
        elif action == "lift":
            self.restricted.discard(code)

    def allowed(self, code: str) -> bool:
        basis, direct_marketing, profiling = CATALOGUE[code]
        marketing_objection = any(CATALOGUE[other][1] for other in self.objected)
        if code in self.restricted or code in self.objected:
            return False
        if marketing_objection and (direct_marketing or profiling):
            return False
        if self.consent[code] == "withdrawn":
            return False
        return self.consent[code] == "granted" or basis != "consent"


steps = st.lists(st.tuples(st.sampled_from(sorted(CATALOGUE)), st.sampled_from(ACTIONS)), max_size=7)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_gate_follows_the_model_over_any_action_sequence(
    sequence: list[tuple[str, str]], team: Any, record: Any
) -> None:
    contact = ContactFactory(team=team)
    expected = Expected()
    for code, action in sequence:
        record(contact, code, action)
        expected.apply(code, action)
    for code in CATALOGUE:
        decision = gate.allows(contact, code)
        assert decision.allowed == expected.allowed(code), (code, sequence, decision)
        assert gate.decisions_for([contact], code)[contact.pk] == decision
        assert gate.decisions_for_contact(contact)[code] == decision


def test_consent_purposes_are_not_allowed_until_granted(team: Any) -> None:
    contact = ContactFactory(team=team)
    decision = gate.allows(contact, "marketing_email")
    assert (decision.allowed, decision.basis) == (False, LawfulBasis.CONSENT)
    assert "not given consent" in decision.reason


def test_legitimate_interest_purposes_are_allowed_until_objected(team: Any, record: Any) -> None:
    contact = ContactFactory(team=team)
    assert gate.allows(contact, "enrichment") == gate.Decision(
        True, LawfulBasis.LEGITIMATE_INTERESTS, "Legitimate interests; the person has not objected."
    )
    record(contact, "enrichment", "object")
    assert not gate.allows(contact, "enrichment").allowed


def test_an_objection_to_direct_marketing_also_stops_profiling_despite_a_grant(team: Any, record: Any) -> None:
    contact = ContactFactory(team=team)
    record(contact, "sentiment_analysis", "grant")
    record(contact, "sales_outreach", "object")
    decision = gate.allows(contact, "sentiment_analysis")
    assert not decision.allowed
    assert "direct marketing" in decision.reason
    assert gate.allows(contact, "enrichment").allowed  # neither marketing nor profiling


def test_grant_and_withdraw_must_be_on_the_basis_of_consent(team: Any, record: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        record(ContactFactory(team=team), "marketing_email", "grant", lawful_basis=LawfulBasis.CONTRACT)


def _preferences(contact: Contact, **overrides: Any) -> None:
    values: dict[str, Any] = {
        "identify_by": "name",
        "pseudonym": "",
        "withheld_attributes": [],
        "unlinked_networks": [],
        "business_functions": ["marketing", "sales", "customer_service", "support"],
        "allowed_analytics": ["sentiment", "offer_targeting", "influence"],
        "do_not_contact": False,
        **overrides,
    }
    preference_update(actor=None, contact=contact, **values)


def test_do_not_contact_stops_outreach_but_not_other_processing(team: Any, record: Any) -> None:
    contact = ContactFactory(team=team)
    record(contact, "marketing_email", "grant")
    _preferences(contact, do_not_contact=True)
    assert not gate.allows(contact, "marketing_email").allowed
    assert not gate.allows(contact, "sales_outreach").allowed
    assert gate.allows(contact, "enrichment").allowed


def test_business_functions_and_analytics_not_allowed_are_refused(team: Any, record: Any) -> None:
    contact = ContactFactory(team=team)
    record(contact, "sentiment_analysis", "grant")
    _preferences(contact, business_functions=["support"], allowed_analytics=["offer_targeting"])
    assert "part of the business" in gate.allows(contact, "sales_outreach").reason
    assert "analytics" in gate.allows(contact, "sentiment_analysis").reason
    assert not gate.allows(contact, "influence_measurement").allowed
    assert gate.allows(contact, "customer_support").allowed


def test_suppressed_and_erased_contacts_are_refused(team: Any, other_team: Any) -> None:
    contact = ContactFactory(team=team, email="Gone@Example.com")
    suppression_add(actor=None, email="gone@example.com")
    assert "suppression" in gate.allows(contact, "enrichment").reason
    # A contact created later with the suppressed address is refused too.
    again = ContactFactory(team=other_team, email="gone@EXAMPLE.com")
    assert not gate.allows(again, "enrichment").allowed
    assert gate.allows(ContactFactory(team=team, email="kept@example.com"), "enrichment").allowed
    erased_id = ContactFactory(team=team).pk
    Contact.objects.filter(pk=erased_id).delete()
    assert gate.allows(erased_id, "enrichment") == gate.Decision(False, "", "The person's data was erased.")


def test_a_retired_purpose_allows_nothing(team: Any, purpose: Any) -> None:
    Purpose.objects.filter(code="enrichment").update(active=False)
    gate.clear_purpose_cache()
    assert "retired" in gate.allows(ContactFactory(team=team), "enrichment").reason


def test_unknown_purposes_are_a_programming_error(team: Any) -> None:
    with pytest.raises(LookupError):
        gate.allows(ContactFactory(team=team), "mind_reading")


def test_the_gate_is_registered_with_contacts(team: Any) -> None:
    contact = ContactFactory(team=team)
    assert gate_allows(contact, "marketing_email") == gate.allows(contact, "marketing_email")


def test_allows_is_one_query(team: Any, record: Any, django_assert_num_queries: Any) -> None:
    contact = ContactFactory(team=team)
    record(contact, "offer_targeting", "grant")
    gate.purposes()  # warm the in-process purpose cache
    # 1. the contact LEFT JOIN its state row for the purpose and its preference row, with an
    #    EXISTS on the direct-marketing objections.
    with django_assert_num_queries(1):
        assert gate.allows(contact, "offer_targeting").allowed


@pytest.mark.parametrize("size", [3, 30])
def test_decisions_for_a_list_is_one_query_whatever_its_size(
    size: int, team: Any, django_assert_num_queries: Any
) -> None:
    contacts = ContactFactory.create_batch(size, team=team)
    gate.purposes()
    # 1. the contacts joined with their state and preference rows (one query per 1,000).
    with django_assert_num_queries(1):
        decisions = gate.decisions_for(contacts, "enrichment")
    assert len(decisions) == size and all(decision.allowed for decision in decisions.values())
