"""The consent panel and page, preferences, the DPO console and purpose editing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from consent.models import ConsentEvent, ConsentState, PrivacyPreference, Purpose
from contacts.models import Activity
from contacts.registry import contact_panels
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(team: Any) -> Any:
    return ContactFactory(team=team, first_name="Rosa", last_name="Parkes", display_name="Rosa Parkes")


def _form(purpose: Purpose, action: str, **extra: str) -> dict[str, Any]:
    return {"purpose": purpose.pk, "action": action, "source": "phone", "evidence": "Said so on the phone.", **extra}


def test_staff_record_a_grant_without_javascript_and_return_to_the_contact_page(
    contact: Any, alice: Any, client_for: Any, purpose: Any
) -> None:
    back = reverse("contacts:detail", kwargs={"pk": contact.pk})
    response = client_for(alice).post(
        reverse("consent:consent_record", kwargs={"pk": contact.pk}),
        _form(purpose("marketing_email"), "grant", next=back),
    )
    assert response.status_code == 302 and response["Location"] == back
    state = ConsentState.objects.get(contact=contact, purpose__code="marketing_email")
    assert (state.consent, state.source) == ("granted", "phone")
    assert Activity.objects.filter(contact=contact, kind=Activity.Kind.CONSENT_CHANGED).count() == 1


def test_withdrawal_takes_the_same_single_step_as_granting_and_htmx_swaps_the_panel(
    contact: Any, bob: Any, client_for: Any, purpose: Any
) -> None:
    client = client_for(bob)
    url = reverse("consent:consent_record", kwargs={"pk": contact.pk})
    grant, withdraw = _form(purpose("marketing_email"), "grant"), _form(purpose("marketing_email"), "withdraw")
    assert grant.keys() == withdraw.keys()
    client.post(url, grant, headers={"HX-Request": "true"})
    response = client.post(url, withdraw, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="consent-panel-' in html and "<html" not in html
    assert "Recorded: Marketing email, consent withdrawn." in html
    assert ConsentState.objects.get(contact=contact, purpose__code="marketing_email").consent == "withdrawn"


def test_an_offsite_next_is_ignored(contact: Any, alice: Any, client_for: Any, purpose: Any) -> None:
    response = client_for(alice).post(
        reverse("consent:consent_record", kwargs={"pk": contact.pk}),
        _form(purpose("enrichment"), "object", next="https://evil.example/"),
    )
    assert response["Location"] == reverse("consent:contact_consent", kwargs={"pk": contact.pk})


def test_nothing_is_preselected_and_missing_answers_are_refused(contact: Any, alice: Any, client_for: Any) -> None:
    client = client_for(alice)
    page = client.get(reverse("consent:contact_consent", kwargs={"pk": contact.pk})).content.decode()
    assert "checked" not in page.split('id="consent-panel-')[1].split("</form>")[0]
    response = client.post(reverse("consent:consent_record", kwargs={"pk": contact.pk}), {"evidence": "x"})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not ConsentEvent.objects.filter(contact=contact).exists()


def test_the_panels_are_on_the_contact_page(contact: Any, alice: Any, client_for: Any, record: Any) -> None:
    assert {"consent", "privacy_preferences"} <= {panel.name for panel in contact_panels()}
    record(contact, "marketing_email", "grant")
    html = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": contact.pk})).content.decode()
    assert f'id="consent-panel-{contact.pk}"' in html
    assert "Privacy preferences" in html


def test_the_contact_pages_panel_loads_its_record_form_when_opened(
    contact: Any, alice: Any, client_for: Any, purpose: Any
) -> None:
    client = client_for(alice)
    record_url = reverse("consent:consent_record", kwargs={"pk": contact.pk})
    html = client.get(reverse("contacts:detail", kwargs={"pk": contact.pk})).content.decode()
    panel = html.split(f'id="consent-panel-{contact.pk}"', 1)[1].split("</section>", 1)[0]
    # Folded away: no form built; opening the disclosure asks for it, and without
    # JavaScript the consent page has it.
    assert 'name="evidence"' not in panel
    assert f'hx-get="{record_url}"' in panel and 'hx-trigger="toggle once"' in panel
    assert f'href="{reverse("consent:contact_consent", kwargs={"pk": contact.pk})}"' in panel

    form = client.get(record_url, headers={"HX-Request": "true"})
    assert form.status_code == 200
    fragment = form.content.decode()
    assert fragment.lstrip().startswith('<form method="post"') and "<html" not in fragment
    assert 'name="evidence"' in fragment and 'name="csrfmiddlewaretoken"' in fragment
    assert f'name="next" value="{reverse("contacts:detail", kwargs={"pk": contact.pk})}"' in fragment
    assert client.get(record_url)["Location"] == reverse("consent:contact_consent", kwargs={"pk": contact.pk})
    # An invalid answer shows the panel again with the form open, its errors inline.
    response = client.post(record_url, {"evidence": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert '<details class="consent-record" open>' in response.content.decode()


@pytest.mark.parametrize("name", ["consent:contact_consent", "consent:preferences", "consent:consent_record"])
def test_charlie_gets_404_on_alices_contact(
    name: str, contact: Any, charlie: Any, client_for: Any, purpose: Any
) -> None:
    client = client_for(charlie)
    url = reverse(name, kwargs={"pk": contact.pk})
    response = client.post(url, _form(purpose("enrichment"), "object")) if name.endswith("record") else client.get(url)
    assert response.status_code == 404
    if name.endswith("record"):
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
    assert not ConsentEvent.objects.filter(contact=contact).exists()


def test_charlie_cannot_change_preferences_of_alices_contact(contact: Any, charlie: Any, client_for: Any) -> None:
    response = client_for(charlie).post(
        reverse("consent:preferences", kwargs={"pk": contact.pk}), {"do_not_contact": "on"}
    )
    assert response.status_code == 404
    assert not PrivacyPreference.objects.filter(contact=contact).exists()


def test_staff_edit_preferences_and_the_gate_follows(contact: Any, mona: Any, client_for: Any) -> None:
    response = client_for(mona).post(
        reverse("consent:preferences", kwargs={"pk": contact.pk}),
        {
            "use_pseudonym": "on",
            "pseudonym": "R. P.",
            "withheld_attributes": ["email", "location"],
            "unlinked_networks": ["github"],
            "refused_business_functions": ["marketing", "sales", "customer_service"],
            "refused_analytics": ["sentiment", "offer_targeting", "influence"],
            "do_not_contact": "on",
        },
    )
    assert response.status_code == 302
    preference = PrivacyPreference.objects.get(contact=contact)
    assert preference.withheld_attributes == ["email", "location"]
    assert preference.identify_by == "pseudonym" and preference.pseudonym == "R. P."
    assert preference.business_functions == ["support"] and preference.allowed_analytics == []
    assert preference.do_not_contact and preference.updated_by == mona
    from consent.gate import allows

    assert not allows(contact, "sales_outreach").allowed


def test_the_preferences_form_of_a_fresh_contact_has_nothing_ticked(contact: Any, alice: Any, client_for: Any) -> None:
    response = client_for(alice).get(reverse("consent:preferences", kwargs={"pk": contact.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="checkbox"' in html
    assert "checked" not in html
    # Saving it untouched refuses nothing: every business function and analytics kind stays allowed.
    # What a browser sends for it: the empty pseudonym box (unticked boxes send nothing).
    client_for(alice).post(reverse("consent:preferences", kwargs={"pk": contact.pk}), {"pseudonym": ""})
    preference = PrivacyPreference.objects.get(contact=contact)
    assert preference.identify_by == "name" and not preference.do_not_contact
    assert preference.business_functions == ["marketing", "sales", "customer_service", "support"]
    assert preference.allowed_analytics == ["sentiment", "offer_targeting", "influence"]


def test_the_preferences_form_ticks_only_what_the_person_refused(contact: Any, alice: Any, client_for: Any) -> None:
    PrivacyPreference.objects.create(contact=contact, business_functions=["sales", "support"], allowed_analytics=[])
    html = client_for(alice).get(reverse("consent:preferences", kwargs={"pk": contact.pk})).content.decode()
    ticked = re.findall(r'<input[^>]*value="([a-z_]+)"[^>]*checked', html)
    assert sorted(ticked) == sorted(["marketing", "customer_service", "sentiment", "offer_targeting", "influence"])


def test_a_pseudonym_without_a_name_is_refused(contact: Any, alice: Any, client_for: Any) -> None:
    response = client_for(alice).post(
        reverse("consent:preferences", kwargs={"pk": contact.pk}), {"use_pseudonym": "on", "pseudonym": ""}
    )
    assert response.status_code == 422
    assert not PrivacyPreference.objects.filter(contact=contact).exists()


def test_consent_pages_show_the_pseudonym_and_no_withheld_attribute(
    team: Any, alice: Any, dpo: Any, client_for: Any, record: Any
) -> None:
    contact = ContactFactory(team=team, display_name="Rosa Parkes", email="rosa@client.example", location="Leeds")
    PrivacyPreference.objects.create(
        contact=contact, identify_by="pseudonym", pseudonym="R. P.", withheld_attributes=["email", "location"]
    )
    record(contact, "marketing_email", "withdraw")
    pages = [
        client_for(alice).get(reverse("consent:contact_consent", kwargs={"pk": contact.pk})),
        client_for(alice).get(reverse("consent:preferences", kwargs={"pk": contact.pk})),
        client_for(dpo).get(reverse("consent:console")),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert "R. P." in html
        for secret in ("Rosa Parkes", "rosa@client.example", "Leeds"):
            assert secret not in html, (response.request["PATH_INFO"], secret)


@pytest.mark.parametrize("user", ["alice", "mona"])
def test_sales_and_managers_cannot_reach_the_dpo_console(user: str, request: Any, client_for: Any) -> None:
    client = client_for(request.getfixturevalue(user))
    for name in ("consent:console", "consent:purposes"):
        assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("consent:purpose_edit", kwargs={"code": "enrichment"})).status_code == 403


def test_the_console_counts_per_purpose_and_lists_withdrawals_and_objections(
    team: Any, dpo: Any, client_for: Any, record: Any
) -> None:
    first, second = ContactFactory(team=team, display_name="Ann Able"), ContactFactory(team=team, display_name="Ben")
    record(first, "marketing_email", "grant")
    record(second, "marketing_email", "grant")
    record(second, "marketing_email", "withdraw")
    record(first, "sales_outreach", "object")
    response = client_for(dpo).get(reverse("consent:console"))
    overview = response.context["overview"]
    counts = {row.purpose.code: (row.granted, row.withdrawn, row.objected) for row in overview.counts}
    assert counts["marketing_email"] == (1, 1, 0)
    assert counts["sales_outreach"] == (0, 0, 1)
    assert [(change.contact_name, change.event.action) for change in overview.recent] == [
        ("Ann Able", "object"),
        ("Ben", "withdraw"),
    ]
    unassessed = {item.purpose.code: item.contacts for item in overview.unassessed}
    # Legitimate-interest purposes without an assessment, with the contacts processed under them.
    assert unassessed == {"sales_outreach": 1, "enrichment": 2, "social_listening": 2, "influence_measurement": 1}
    assert reverse("audit:events") in response.content.decode()


def test_the_dpo_edits_a_purpose_and_records_an_assessment(dpo: Any, client_for: Any) -> None:
    purpose = Purpose.objects.get(code="enrichment")
    response = client_for(dpo).post(
        reverse("consent:purpose_edit", kwargs={"code": "enrichment"}),
        {
            "name": "Profile enrichment",
            "description": purpose.description,
            "lawful_basis": "legitimate_interests",
            "retention_days": "90",
            "data_categories": "public profiles, avatar",
            "lia_summary": "Public, professional data; low impact; easy objection.",
            "active": "on",
        },
    )
    assert response.status_code == 302
    purpose.refresh_from_db()
    assert purpose.retention_days == 90 and purpose.data_categories == ["public profiles", "avatar"]
    assert purpose.lia_assessed_at is not None and not purpose.needs_assessment
    assert "enrichment" not in {
        item.purpose.code for item in client_for(dpo).get(reverse("consent:console")).context["overview"].unassessed
    }


@pytest.mark.parametrize("events", [1, 12])
def test_the_consent_page_makes_the_same_queries_whatever_the_history(
    events: int, contact: Any, alice: Any, client_for: Any, record: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(events):
        record(contact, "marketing_email", "grant")
    client = client_for(alice)
    url = reverse("consent:contact_consent", kwargs={"pk": contact.pk})
    client.get(url)  # warm the purpose cache and the session
    # session + user + roles (2) + teams (2), the contact, privacy rules, panel: states,
    # states + preference for the decisions, purposes, history; preferences panel: 1; purpose
    # form choices: 1; a few spare for the message framework and the audit middleware.
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert response.status_code == 200


def test_the_privacy_nav_item_is_for_the_dpo_only(alice: Any, mona: Any, dpo: Any, client_for: Any) -> None:
    link = f'href="{reverse("consent:console")}"'
    assert link in client_for(dpo).get(reverse("home")).content.decode()
    for user in (alice, mona):
        assert link not in client_for(user).get(reverse("home")).content.decode()
