"""The contact page: header card, panels, visibility, audit, query budget."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from contacts import registry
from contacts.models import Activity, ContactMethod
from socialcrm.audit.models import AuditEvent
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    ContactMethodFactory,
    OrganizationFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def _url(contact: Any) -> str:
    return reverse("contacts:detail", kwargs={"pk": contact.pk})


def test_header_card_shows_name_role_organization_methods_owner_team_and_tags(alice: Any, team: Any, client_for: Any):
    organization = OrganizationFactory(team=team, name="Acme Rockets")
    contact = ContactFactory(
        team=team,
        owner=alice,
        first_name="Grace",
        last_name="Hopper",
        display_name="Grace Hopper",
        title="Rear admiral",
        organization=organization,
        email="grace@acme.example",
    )
    ContactMethodFactory(
        contact=contact, kind=ContactMethod.Kind.PHONE, value="+44 20 7946 0000", normalized="+442079460000"
    )
    contact.tags.add(TagFactory(team=team, name="vip"))

    response = client_for(alice).get(_url(contact))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Grace Hopper" in html
    assert "Rear admiral" in html
    assert reverse("contacts:organization_detail", kwargs={"pk": organization.pk}) in html
    assert 'href="mailto:grace@acme.example"' in html
    assert 'href="tel:+442079460000"' in html
    assert "Alice Archer" in html
    assert team.name in html
    assert ">vip<" in html


def test_website_with_a_javascript_scheme_is_not_a_link(alice: Any, team: Any, client_for: Any):
    contact = ContactFactory(team=team)
    ContactMethodFactory(
        contact=contact, kind=ContactMethod.Kind.WEBSITE, value="javascript:alert(1)", normalized="javascript:alert(1)"
    )

    html = client_for(alice).get(_url(contact)).content.decode()

    assert 'href="javascript:' not in html
    assert "javascript:alert(1)" in html


def test_teammate_manager_dpo_and_admin_see_the_contact(
    alice: Any, bob: Any, mona: Any, dpo: Any, admin: Any, team: Any, client_for: Any
):
    contact = ContactFactory(team=team, owner=alice)
    for user in (bob, mona, dpo, admin):
        assert client_for(user).get(_url(contact)).status_code == 200


def test_charlie_gets_404_on_another_teams_contact(charlie: Any, team: Any, client_for: Any):
    contact = ContactFactory(team=team)
    assert client_for(charlie).get(_url(contact)).status_code == 404
    assert client_for(charlie).get(reverse("contacts:timeline", kwargs={"pk": contact.pk})).status_code == 404


def test_dpo_reads_the_page_without_a_quick_log_form(dpo: Any, alice: Any, team: Any, client_for: Any):
    contact = ContactFactory(team=team)
    assert "quick-log" not in client_for(dpo).get(_url(contact)).content.decode()
    assert "quick-log" in client_for(alice).get(_url(contact)).content.decode()


@pytest.fixture
def panel() -> Any:
    registered = dict(registry._panels)
    registry._panels.clear()
    yield
    registry._panels.clear()
    registry._panels.update(registered)


def test_registered_panels_render_in_the_side_column_in_order(panel: Any, alice: Any, team: Any, client_for: Any):
    registry.register_contact_panel(
        registry.ContactPanel("second", lambda request, contact: mark_safe("<h2>Second panel</h2>"), order=20)
    )
    registry.register_contact_panel(
        registry.ContactPanel(
            "first", lambda request, contact: format_html("<h2>Panel for {}</h2>", contact.pk), order=10
        )
    )
    contact = ContactFactory(team=team)

    html = client_for(alice).get(_url(contact)).content.decode()

    assert "contact-panels" in html
    assert html.index(f"Panel for {contact.pk}") < html.index("Second panel")


def test_a_panel_returning_plain_text_is_escaped(panel: Any, alice: Any, team: Any, client_for: Any):
    registry.register_contact_panel(registry.ContactPanel("raw", lambda request, contact: "<script>x()</script>"))
    html = client_for(alice).get(_url(ContactFactory(team=team))).content.decode()
    assert "<script>x()" not in html
    assert "&lt;script&gt;x()" in html


def test_no_panel_column_when_no_panel_is_registered(panel: Any, alice: Any, team: Any, client_for: Any):
    html = client_for(alice).get(_url(ContactFactory(team=team))).content.decode()
    assert "contact-panels" not in html


def _populate(contact: Any, team: Any, alice: Any, bob: Any, size: int) -> None:
    organization = OrganizationFactory(team=team)
    contact.organization = organization
    contact.save()
    for index in range(size):
        ContactMethodFactory(contact=contact, value=f"p{index}-{contact.pk}@client.example")
        contact.tags.add(TagFactory(team=team, name=f"t{index}"))
        ActivityFactory(contact=contact, actor=alice if index % 2 else bob, kind=Activity.Kind.CALL)


@pytest.mark.parametrize("size", [1, 30])
def test_contact_page_runs_a_constant_number_of_queries(
    size: int, panel: Any, alice: Any, bob: Any, team: Any, client_for: Any, django_assert_max_num_queries: Any
):
    contact = ContactFactory(team=team, owner=alice)
    _populate(contact, team, alice, bob, size)
    client = client_for(alice)
    # The page without any app's panel (with every panel: test_contact_page_budget.py, 10 in
    # all; the session comes from the cache): 1 user, 2 roles (groups), 3 visible teams,
    # 4 contact with organization/owner/team, its methods and tags as JSON and the header's
    # reminders bell count, 5-6 audit (the chain's head, taken with the advisory lock on
    # PostgreSQL, and the insert), 7 the consent preferences and states (the name the person
    # chose, withheld attributes; consent's panels reuse them), 8 timeline page with actors.
    with django_assert_max_num_queries(8):
        response = client.get(_url(contact))
    assert response.status_code == 200
    assert response.content.decode().count('class="timeline-entry ') == min(size, 25)


def test_each_page_view_is_audited_with_ids_only_and_fragments_are_not(alice: Any, team: Any, client_for: Any):
    contact = ContactFactory(team=team, display_name="Private Person")
    client = client_for(alice)

    client.get(_url(contact))
    client.get(_url(contact))
    client.get(reverse("contacts:timeline", kwargs={"pk": contact.pk}), HTTP_HX_REQUEST="true")

    events = AuditEvent.objects.filter(action="contact.viewed", object_type="contact", object_id=str(contact.pk))
    assert events.count() == 2
    assert set(events.values_list("actor_id", flat=True)) == {alice.pk}


def test_a_refused_view_is_not_audited_as_a_view(charlie: Any, team: Any, client_for: Any):
    contact = ContactFactory(team=team)
    client_for(charlie).get(_url(contact))
    assert not AuditEvent.objects.filter(action="contact.viewed").exists()
