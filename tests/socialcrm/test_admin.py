"""The Django admin for people, teams and invitations (its sign-in is tested in test_accounts.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from socialcrm.models import Team, User
from tests.factories import InvitationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_admin_creates_a_user_by_email_without_a_username(admin: User, client_for: Any) -> None:
    password = "a long admin chosen passphrase"
    response = client_for(admin).post(
        reverse("admin:socialcrm_user_add"),
        {"email": "Nora@Staff.example", "usable_password": "true", "password1": password, "password2": password},
    )

    assert response.status_code == 302
    user = User.objects.get(email="nora@staff.example")
    assert user.check_password(password)


def test_admin_refuses_a_second_account_for_an_address_in_another_case(
    admin: User, alice: User, client_for: Any
) -> None:
    password = "a long admin chosen passphrase"
    response = client_for(admin).post(
        reverse("admin:socialcrm_user_add"),
        {"email": "ALICE@staff.example", "usable_password": "true", "password1": password, "password2": password},
    )

    assert response.status_code == 200
    assert "Someone with this email address already has an account." in response.content.decode()
    assert User.objects.filter(email__iexact="alice@staff.example").count() == 1


def test_the_user_pages_show_email_and_no_username(admin: User, alice: User, client_for: Any) -> None:
    client = client_for(admin)

    listing = client.get(reverse("admin:socialcrm_user_changelist"), {"q": "alice"}).content.decode()
    change = client.get(reverse("admin:socialcrm_user_change", args=[alice.pk])).content.decode()

    assert "alice@staff.example" in listing
    assert 'name="email"' in change
    assert 'name="username"' not in change


def test_the_team_page_picks_members_and_managers_side_by_side(
    admin: User, team: Team, alice: User, mona: User, client_for: Any
) -> None:
    client = client_for(admin)

    listing = client.get(reverse("admin:socialcrm_team_changelist"))
    change = client.get(reverse("admin:socialcrm_team_change", args=[team.pk])).content.decode()

    assert listing.status_code == 200
    assert "Northwind sales" in listing.content.decode()
    assert change.count('class="selectfilter"') == 2  # filter_horizontal for members and managers
    response = client.post(
        reverse("admin:socialcrm_team_change", args=[team.pk]),
        {"name": team.name, "members": [alice.pk, mona.pk], "managers": [alice.pk]},
    )
    assert response.status_code == 302
    assert set(team.managers.all()) == {alice}


@pytest.mark.parametrize("size", [1, 15])
def test_the_team_list_counts_without_a_query_per_team(
    size: int, admin: User, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(size):
        TeamFactory(members=[UserFactory()], managers=[UserFactory()])
    client = client_for(admin)
    # session, user, the count of teams twice (the changelist counts filtered and unfiltered),
    # the teams with their member and manager counts.
    with django_assert_max_num_queries(5):
        assert client.get(reverse("admin:socialcrm_team_changelist")).status_code == 200


def test_invitations_are_listed_read_only(admin: User, team: Team, client_for: Any) -> None:
    invitation = InvitationFactory(email="nora@staff.example", team=team)
    client = client_for(admin)

    listing = client.get(reverse("admin:socialcrm_invitation_changelist"))
    change = client.get(reverse("admin:socialcrm_invitation_change", args=[invitation.pk]))
    edit = client.post(
        reverse("admin:socialcrm_invitation_change", args=[invitation.pk]), {"email": "eve@elsewhere.example"}
    )
    delete = client.post(reverse("admin:socialcrm_invitation_delete", args=[invitation.pk]), {"post": "yes"})

    assert listing.status_code == 200
    assert "nora@staff.example" in listing.content.decode()
    assert change.status_code == 200
    assert 'name="email"' not in change.content.decode()  # shown, not editable
    assert edit.status_code == delete.status_code == 403
    invitation.refresh_from_db()
    assert invitation.email == "nora@staff.example"
    with pytest.raises(NoReverseMatch):
        reverse("admin:socialcrm_invitation_add")
