"""Roles (socialcrm/roles.py): who holds what, the view decorators, and what each demo account
sees after signing in."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from socialcrm import roles
from socialcrm.context_processors import navigation
from socialcrm.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo
from socialcrm.models import User
from socialcrm.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_each_role_holds_only_itself(alice: User, mona: User, dpo: User) -> None:
    assert (roles.is_sales(alice), roles.is_manager(alice), roles.is_dpo(alice)) == (True, False, False)
    assert (roles.is_sales(mona), roles.is_manager(mona), roles.is_dpo(mona)) == (False, True, False)
    assert (roles.is_sales(dpo), roles.is_manager(dpo), roles.is_dpo(dpo)) == (False, False, True)
    assert roles.has_role(alice, Role.MANAGER, Role.SALES)


def test_a_superuser_holds_every_role(admin: User) -> None:
    assert all(roles.has_role(admin, role) for role in Role)
    assert roles.is_staff_member(admin)
    assert roles.can_invite(admin)


def test_an_inactive_account_holds_no_role(alice: User, admin: User) -> None:
    for user in (alice, admin):
        user.is_active = False

    assert not any(roles.has_role(user, role) for user in (alice, admin) for role in Role)
    assert not roles.is_staff_member(alice)


def test_anonymous_visitors_and_accounts_without_a_group_hold_no_role(db: None) -> None:
    no_role = UserFactory()

    for user in (AnonymousUser(), no_role):
        assert not any(roles.has_role(user, role) for role in Role)
        assert not roles.is_staff_member(user)


def test_role_names_are_read_once_per_user(alice: User, django_assert_num_queries: Any) -> None:
    user = User.objects.get(pk=alice.pk)

    with django_assert_num_queries(1):
        roles.is_sales(user)
        roles.is_manager(user)
        roles.is_dpo(user)


@roles.role_required(Role.MANAGER)
def managers_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("for managers")


def request_as(user: Any) -> HttpRequest:
    request = RequestFactory().get("/somewhere/")
    request.user = user
    return request


def test_role_required_lets_the_role_and_superusers_through(mona: User, admin: User) -> None:
    assert managers_only(request_as(mona)).content == b"for managers"
    assert managers_only(request_as(admin)).status_code == 200


def test_role_required_refuses_other_roles(alice: User, dpo: User) -> None:
    for user in (alice, dpo):
        with pytest.raises(PermissionDenied):
            managers_only(request_as(user))


def test_role_required_sends_anonymous_visitors_to_sign_in(db: None) -> None:
    response = managers_only(request_as(AnonymousUser()))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=/somewhere/"


def test_a_refused_page_answers_403_with_an_explanation(alice: User, client_for: Any) -> None:
    response = client_for(alice).get(reverse("team:invitations"))

    assert response.status_code == 403
    assert "Your role does not include this part of Social CRM" in response.content.decode()


# --- the demo accounts ------------------------------------------------------------------------------

# What each demo account's navigation must and must not offer, among the entries socialcrm owns.
EXPECTED_NAVIGATION = {
    "sales": {"Home"},
    "manager": {"Home", "Invitations"},
    "dpo": {"Home"},
    "admin": {"Home", "Invitations", "Admin"},
}


def test_each_demo_account_signs_in_and_sees_its_own_navigation(db: None) -> None:
    load_demo(say=lambda message: None)

    for key, (email, _, _) in DEMO_ACCOUNTS.items():
        client = Client()
        signed_in = client.post(reverse("account_login"), {"login": email, "password": DEMO_PASSWORD})
        assert signed_in.status_code == 302, f"{email} could not sign in"
        assert signed_in["Location"] == reverse("home")

        home = client.get(reverse("home"))

        assert home.status_code == 200, email
        labels = {item["label"] for item in home.context["nav_items"]}
        assert labels & {"Home", "Invitations", "Admin"} == EXPECTED_NAVIGATION[key], email
        html = home.content.decode()
        assert (f'href="{reverse("team:invitations")}"' in html) == ("Invitations" in EXPECTED_NAVIGATION[key])
        assert (f'href="{reverse("admin:index")}"' in html) == ("Admin" in EXPECTED_NAVIGATION[key])


def test_the_navigation_is_worked_out_once_per_request(alice: User) -> None:
    """Every template rendered with the request runs the context processors: the entries
    (a role check per entry) are computed the first time only."""
    request = RequestFactory().get("/")
    request.user = alice
    first = navigation(request)["nav_items"]
    assert {item["label"] for item in first} >= {"Home"}
    assert navigation(request)["nav_items"] is first
    another = RequestFactory().get("/")
    another.user = alice
    assert navigation(another)["nav_items"] is not first
