"""Invitations: who may invite whom, the emailed link, accepting it, and sending exactly once."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from celery.exceptions import Retry
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from socialcrm import services, tasks
from socialcrm.models import Invitation, Team, User
from socialcrm.roles import Role, has_role
from tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual passphrase"
LINK = re.compile(r"https?://\S+/team/invitations/accept/(?P<token>[^/\s]+)/")


def invite(client: Any, **data: Any) -> Any:
    return client.post(reverse("team:invitations"), data)


def accept_url(invitation: Invitation) -> str:
    return reverse("team:accept_invitation", kwargs={"token": invitation.token})


def link_in_mail() -> str:
    """The accept URL (path) in the one invitation email sent."""
    assert len(mail.outbox) == 1
    match = LINK.search(mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return reverse("team:accept_invitation", kwargs={"token": match["token"]})


def accept(client: Any, url: str, **data: Any) -> Any:
    form = {"first_name": "Nora", "last_name": "New", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    return client.post(url, {**form, **data})


# --- who may invite whom ------------------------------------------------------------------------


def test_manager_invites_into_own_team_and_the_mail_has_the_link(
    mona: User, team: Team, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client_for(mona), email=" Nora@Staff.example ", role=Role.SALES, team=team.pk)

    assert response.status_code == 302
    assert response["Location"] == reverse("team:invitations")
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.team, invitation.invited_by) == (
        "nora@staff.example",
        Role.SALES.value,
        team,
        mona,
    )
    assert invitation.sent_at is not None
    assert mail.outbox[0].to == ["nora@staff.example"]
    assert "Northwind sales" in mail.outbox[0].body
    assert Invitation.from_token(link_in_mail().rstrip("/").rsplit("/", 1)[-1]) == invitation


def test_manager_may_invite_another_manager_into_own_team(mona: User, team: Team, client_for: Any) -> None:
    response = invite(client_for(mona), email="max@staff.example", role=Role.MANAGER, team=team.pk)

    assert response.status_code == 302
    assert Invitation.objects.get().role == Role.MANAGER.value


def test_manager_cannot_invite_into_a_team_they_do_not_manage(mona: User, other_team: Team, client_for: Any) -> None:
    response = invite(client_for(mona), email="nora@staff.example", role=Role.SALES, team=other_team.pk)

    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not Invitation.objects.exists()
    with pytest.raises(PermissionDenied):
        services.invitation_create(actor=mona, email="nora@staff.example", role=Role.SALES, team=other_team)
    with pytest.raises(PermissionDenied):
        services.invitation_create(actor=mona, email="nora@staff.example", role=Role.SALES, team=None)


def test_manager_cannot_invite_a_data_protection_officer(mona: User, team: Team, client_for: Any) -> None:
    page = client_for(mona).get(reverse("team:invitations"))
    assert Role.DPO.value not in page.content.decode()

    response = invite(client_for(mona), email="nora@staff.example", role=Role.DPO, team=team.pk)

    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    with pytest.raises(PermissionDenied):
        services.invitation_create(actor=mona, email="nora@staff.example", role=Role.DPO, team=team)
    assert not Invitation.objects.exists()


def test_admin_invites_anyone_into_any_team_or_none(admin: User, other_team: Team, client_for: Any) -> None:
    client = client_for(admin)

    assert invite(client, email="dora@staff.example", role=Role.DPO, team="").status_code == 302
    assert invite(client, email="max@staff.example", role=Role.MANAGER, team=other_team.pk).status_code == 302

    assert set(Invitation.objects.values_list("email", "role", "team")) == {
        ("dora@staff.example", Role.DPO.value, None),
        ("max@staff.example", Role.MANAGER.value, other_team.pk),
    }


def test_sales_and_dpo_cannot_invite(alice: User, dpo: User, team: Team) -> None:
    for actor in (alice, dpo):
        with pytest.raises(PermissionDenied):
            services.invitation_create(actor=actor, email="nora@staff.example", role=Role.SALES, team=team)
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("email", ["alice@staff.example", "ALICE@Staff.Example", "alice.second@staff.example"])
def test_an_email_that_already_has_an_account_is_refused(
    email: str, mona: User, alice: User, team: Team, client_for: Any
) -> None:
    EmailAddress.objects.create(user=alice, email="alice.second@staff.example", verified=True, primary=False)

    response = invite(client_for(mona), email=email, role=Role.SALES, team=team.pk)

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Someone with this email address already has an account."]
    assert "already has an account" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_second_invitation_to_a_pending_address_is_refused(mona: User, team: Team, client_for: Any) -> None:
    InvitationFactory(email="nora@staff.example", team=team)

    response = invite(client_for(mona), email="nora@staff.example", role=Role.SALES, team=team.pk)

    assert response.context["form"].errors["email"] == ["An invitation to this address is still pending."]
    assert Invitation.objects.count() == 1


def test_an_expired_invitation_can_be_renewed(mona: User, team: Team) -> None:
    InvitationFactory(email="nora@staff.example", team=team, expires_at=timezone.now() - timedelta(minutes=1))

    services.invitation_create(actor=mona, email="nora@staff.example", role=Role.SALES, team=team)

    assert Invitation.objects.count() == 2


# --- the list of sent invitations ------------------------------------------------------------------


def test_managers_see_their_teams_invitations_and_admins_all(
    mona: User, admin: User, team: Team, other_team: Team, client_for: Any
) -> None:
    InvitationFactory(email="ours@staff.example", team=team)
    InvitationFactory(email="theirs@staff.example", team=other_team)

    as_manager = client_for(mona).get(reverse("team:invitations")).content.decode()
    as_admin = client_for(admin).get(reverse("team:invitations")).content.decode()

    assert "ours@staff.example" in as_manager
    assert "theirs@staff.example" not in as_manager
    assert "ours@staff.example" in as_admin
    assert "theirs@staff.example" in as_admin


@pytest.mark.parametrize("size", [1, 20])
def test_invitations_page_query_budget(
    size: int, mona: User, team: Team, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(size):
        InvitationFactory(team=team, invited_by=mona)
    client = client_for(mona)
    # session, user, the user's group names (role checks and navigation share them), the
    # managed teams for the form's choices, the invitations with team and inviter joined,
    # the header's reminders bell.
    with django_assert_max_num_queries(6):
        response = client.get(reverse("team:invitations"))
    assert response.status_code == 200


# --- sending, exactly once ------------------------------------------------------------------------


def test_sending_twice_sends_one_mail(team: Team) -> None:
    invitation = InvitationFactory(email="nora@staff.example", team=team)

    assert tasks.send_invitation(invitation.pk) is True
    assert tasks.send_invitation(invitation.pk) is False

    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_used_expired_or_deleted_invitations_are_not_sent(team: Team) -> None:
    used = InvitationFactory(team=team, accepted_at=timezone.now())
    expired = InvitationFactory(team=team, expires_at=timezone.now() - timedelta(seconds=1))

    assert tasks.send_invitation(used.pk) is False
    assert tasks.send_invitation(expired.pk) is False
    assert tasks.send_invitation(expired.pk + 1000) is False
    assert mail.outbox == []


def test_a_failed_send_is_retried_and_then_sends_once(team: Team, settings: Any) -> None:
    invitation = InvitationFactory(team=team)
    settings.EMAIL_BACKEND = "tests.socialcrm.test_invitations.RefusingBackend"

    # Tests propagate eager task errors (tests/conftest.py): the retry surfaces as Retry.
    with pytest.raises(Retry, match="mail server down"):
        tasks.send_invitation.apply(args=[invitation.pk])

    invitation.refresh_from_db()
    assert invitation.sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.send_invitation.apply(args=[invitation.pk]).result is True
    assert tasks.send_invitation.apply(args=[invitation.pk]).result is False
    assert len(mail.outbox) == 1


class RefusingBackend:
    """An email backend whose server refuses connections."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("mail server down")


# --- accepting --------------------------------------------------------------------------------------


def test_accepting_creates_a_verified_sales_account_in_the_team_and_signs_in(
    mona: User, team: Team, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invite(client_for(mona), email="nora@staff.example", role=Role.SALES, team=team.pk)
    url = link_in_mail()
    client = client_for(None)

    page = client.get(url)
    assert page.status_code == 200
    assert "nora@staff.example" in page.content.decode()
    response = accept(client, url)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get(email="nora@staff.example")
    assert (user.first_name, user.last_name) == ("Nora", "New")
    assert user.check_password(NEW_PASSWORD)
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("nora@staff.example", True, True)
    assert has_role(user, Role.SALES)
    assert not has_role(user, Role.MANAGER)
    assert list(user.teams.all()) == [team]
    assert not user.managed_teams.exists()
    invitation = Invitation.objects.get()
    assert invitation.accepted_user == user
    assert invitation.accepted_at is not None
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert home.context["user"] == user


def test_accepting_a_manager_invitation_makes_them_manager_of_the_team(team: Team, client_for: Any) -> None:
    invitation = InvitationFactory(email="max@staff.example", role=Role.MANAGER.value, team=team)

    accept(client_for(None), accept_url(invitation))

    user = User.objects.get(email="max@staff.example")
    assert has_role(user, Role.MANAGER)
    assert list(user.teams.all()) == [team]
    assert list(user.managed_teams.all()) == [team]


def test_accepting_a_dpo_invitation_without_team(client_for: Any, db: None) -> None:
    invitation = InvitationFactory(email="dora@staff.example", role=Role.DPO.value, team=None)

    accept(client_for(None), accept_url(invitation))

    user = User.objects.get(email="dora@staff.example")
    assert has_role(user, Role.DPO)
    assert not user.teams.exists()


def test_a_weak_or_mismatched_password_keeps_the_form(team: Team, client_for: Any) -> None:
    invitation = InvitationFactory(team=team)
    client = client_for(None)

    mismatched = accept(client, accept_url(invitation), password2="something else entirely")
    weak = accept(client, accept_url(invitation), password1="password", password2="password")

    assert mismatched.status_code == weak.status_code == 200
    assert "password2" in mismatched.context["form"].errors
    assert "password1" in weak.context["form"].errors
    assert not User.objects.filter(email=invitation.email).exists()


INVALID_LINK_TEXT = "This invitation link does not work"


def test_a_used_link_answers_404_with_a_clear_page(team: Team, client_for: Any) -> None:
    invitation = InvitationFactory(team=team)
    url = accept_url(invitation)
    accept(client_for(None), url)

    again = client_for(None).get(url)
    post_again = accept(client_for(None), url)

    assert again.status_code == post_again.status_code == 404
    assert INVALID_LINK_TEXT in again.content.decode()
    assert User.objects.filter(email=invitation.email).count() == 1


def test_an_expired_link_answers_404(team: Team, client_for: Any) -> None:
    invitation = InvitationFactory(team=team)
    url = accept_url(invitation)

    with time_machine.travel(timezone.now() + Invitation.VALID_FOR + timedelta(minutes=1)):
        response = client_for(None).get(url)

    assert response.status_code == 404
    assert INVALID_LINK_TEXT in response.content.decode()


def test_an_invitation_whose_row_expired_early_answers_404(team: Team, client_for: Any) -> None:
    # The token is still within its signature's age, but the row says it has expired.
    invitation = InvitationFactory(team=team, expires_at=timezone.now() - timedelta(seconds=1))

    assert client_for(None).get(accept_url(invitation)).status_code == 404


@pytest.mark.parametrize("token", ["not-a-token", "MQ:1tZ3Xj:forgedsignatureforgedsignature000"])
def test_a_forged_link_answers_404(token: str, team: Team, client_for: Any) -> None:
    InvitationFactory(team=team)
    url = reverse("team:accept_invitation", kwargs={"token": token})

    response = client_for(None).get(url)

    assert response.status_code == 404
    assert INVALID_LINK_TEXT in response.content.decode()


def test_a_link_to_a_deleted_invitation_answers_404(team: Team, client_for: Any) -> None:
    invitation = InvitationFactory(team=team)
    url = accept_url(invitation)
    invitation.delete()

    assert client_for(None).get(url).status_code == 404


def test_accepting_after_the_address_got_an_account_another_way_answers_404(team: Team, client_for: Any) -> None:
    invitation = InvitationFactory(email="nora@staff.example", team=team)
    UserFactory(email="nora@staff.example")

    response = accept(client_for(None), accept_url(invitation))

    assert response.status_code == 404
    assert User.objects.filter(email="nora@staff.example").count() == 1
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_the_new_account_signs_in_with_its_password_afterwards(team: Team, client_for: Any) -> None:
    invitation = InvitationFactory(email="nora@staff.example", team=team)
    accept(client_for(None), accept_url(invitation))
    client = client_for(None)

    response = client.post(reverse("account_login"), {"login": "nora@staff.example", "password": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
