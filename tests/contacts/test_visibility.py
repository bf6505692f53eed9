"""Who sees which contacts on the list pages and in every picker; other teams' ids answer 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.selectors import assignable_users, contact_list
from tests.factories import ContactFactory, OrganizationFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_teams(team: Any, other_team: Any, alice: Any, charlie: Any) -> dict[str, Any]:
    return {
        "ours": ContactFactory(team=team, display_name="Ours Person", owner=alice),
        "theirs": ContactFactory(team=other_team, display_name="Theirs Person", owner=charlie),
        "our_org": OrganizationFactory(team=team, name="Our Org"),
        "their_org": OrganizationFactory(team=other_team, name="Their Org"),
    }


def test_sales_see_their_teams_contacts_only(alice: Any, two_teams: dict[str, Any], client_for: Any) -> None:
    assert list(contact_list(user=alice)) == [two_teams["ours"]]
    body = client_for(alice).get(reverse("contacts:list")).content.decode()
    assert "Ours Person" in body
    assert "Theirs Person" not in body


def test_managers_see_the_teams_they_manage(mona: Any, two_teams: dict[str, Any]) -> None:
    assert list(contact_list(user=mona)) == [two_teams["ours"]]


@pytest.mark.parametrize("who", ["dpo", "admin"])
def test_dpo_and_admin_see_every_team(who: str, two_teams: dict[str, Any], request: Any, client_for: Any) -> None:
    user = request.getfixturevalue(who)
    assert set(contact_list(user=user)) == {two_teams["ours"], two_teams["theirs"]}
    body = client_for(user).get(reverse("contacts:list")).content.decode()
    assert "Ours Person" in body
    assert "Theirs Person" in body


def test_a_user_without_a_role_sees_nothing(two_teams: dict[str, Any], team: Any, client_for: Any) -> None:
    nobody = UserFactory()
    team.members.add(nobody)
    assert not contact_list(user=nobody).exists()
    assert client_for(nobody).get(reverse("contacts:list")).status_code == 403


@pytest.mark.parametrize(
    ("name", "object_key"),
    [
        ("contacts:edit", "ours"),
        ("contacts:archive", "ours"),
        ("contacts:unarchive", "ours"),
        ("contacts:organization_edit", "our_org"),
        ("contacts:organization_archive", "our_org"),
        ("contacts:organization_unarchive", "our_org"),
    ],
)
def test_other_teams_objects_answer_404(
    name: str, object_key: str, two_teams: dict[str, Any], charlie: Any, client_for: Any
) -> None:
    url = reverse(name, kwargs={"pk": two_teams[object_key].pk})
    client = client_for(charlie)
    assert client.get(url).status_code == 404
    assert client.post(url, {"first_name": "Hijacked", "name": "Hijacked"}).status_code == 404
    two_teams["ours"].refresh_from_db()
    two_teams["our_org"].refresh_from_db()
    assert not two_teams["ours"].archived
    assert not two_teams["our_org"].archived
    assert two_teams["ours"].first_name != "Hijacked"


def test_the_organization_list_shows_visible_organizations_only(
    alice: Any, two_teams: dict[str, Any], client_for: Any
) -> None:
    body = client_for(alice).get(reverse("contacts:organization_list")).content.decode()
    assert "Our Org" in body
    assert "Their Org" not in body


def test_pickers_offer_only_what_the_user_sees(
    alice: Any, bob: Any, charlie: Any, team: Any, other_team: Any, two_teams: dict[str, Any], client_for: Any
) -> None:
    TagFactory(team=other_team, name="their-tag")
    assert set(assignable_users(user=alice)) >= {alice, bob}
    assert charlie not in assignable_users(user=alice)
    create_page = client_for(alice).get(reverse("contacts:create")).content.decode()
    assert "Our Org" in create_page
    assert "Their Org" not in create_page
    for url in (reverse("contacts:list"), reverse("contacts:create")):
        body = client_for(alice).get(url).content.decode()
        assert "Bob Baker" in body
        assert "Charlie" not in body
        assert "Southwind" not in body
        assert "their-tag" not in body


def test_another_teams_ids_in_a_form_are_invalid_choices(
    alice: Any, team: Any, other_team: Any, two_teams: dict[str, Any], charlie: Any, client_for: Any
) -> None:
    response = client_for(alice).post(
        reverse("contacts:create"),
        {
            "team": other_team.pk,
            "first_name": "Ann",
            "organization": two_teams["their_org"].pk,
            "owner": charlie.pk,
        },
    )
    assert response.status_code == 422
    assert response.content.decode().count("Select a valid choice") == 3
    assert not other_team.contacts.filter(first_name="Ann").exists()


def test_another_teams_values_in_the_list_filters_leak_nothing(
    alice: Any, two_teams: dict[str, Any], other_team: Any, client_for: Any
) -> None:
    response = client_for(alice).get(reverse("contacts:list"), {"organization": "Their", "team": other_team.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in body
    assert "Theirs Person" not in body
    assert "No contacts match these filters." in body
