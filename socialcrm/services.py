"""Writes for users, teams and invitations."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from socialcrm import roles
from socialcrm.models import Invitation, Team, User
from socialcrm.outbox import enqueue
from socialcrm.selectors import invitation_open_for_email


def _email_has_account(email: str) -> bool:
    # A secondary address of an existing account counts too: allauth keeps emails unique.
    return (
        User.objects.filter(email__iexact=email).exists() or EmailAddress.objects.filter(email__iexact=email).exists()
    )


@transaction.atomic
def invitation_create(*, actor: User, email: str, role: roles.Role, team: Team | None) -> Invitation:
    """Invite ``email`` to join with ``role`` (and ``team``); the email is sent after commit.

    Administrators may invite anyone anywhere. Managers invite only into a team they
    manage and never a data protection officer (PermissionDenied). An address that
    already has an account or a pending invitation is refused (ValidationError on "email").
    """
    email = email.strip().lower()
    if not roles.is_manager(actor):  # superusers hold every role
        raise PermissionDenied("Only managers and administrators invite people.")
    if not roles.is_admin(actor):
        if role == roles.Role.DPO:
            raise PermissionDenied("Only an administrator can invite a data protection officer.")
        if team is None or not team.managers.filter(pk=actor.pk).exists():
            raise PermissionDenied("Managers invite people into the teams they manage.")
    if _email_has_account(email):
        raise ValidationError({"email": "Someone with this email address already has an account."})
    if invitation_open_for_email(email=email) is not None:
        raise ValidationError({"email": "An invitation to this address is still pending."})
    invitation = Invitation.objects.create(
        email=email,
        role=role.value,
        team=team,
        invited_by=actor,
        expires_at=timezone.now() + Invitation.VALID_FOR,
    )
    enqueue("socialcrm.tasks.send_invitation", invitation.pk)
    return invitation


@transaction.atomic
def invitation_send(*, invitation_id: int) -> bool:
    """Email the invitation link unless it was already sent; True when a mail went out.

    The row is locked and ``sent_at`` set in the same transaction as the send, so a
    second run (a redelivered task) finds it sent and does nothing. If sending raises,
    the transaction rolls back and a retry sends it. Used, expired or deleted
    invitations are not sent.
    """
    invitation = (
        Invitation.objects.select_for_update()
        .filter(pk=invitation_id, sent_at__isnull=True, accepted_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None:
        return False
    link = settings.SITE_URL + reverse("team:accept_invitation", kwargs={"token": invitation.token})
    send_mail(
        subject="[Social CRM] You are invited to join Social CRM",
        message=render_to_string("socialcrm/email/invitation.txt", {"invitation": invitation, "link": link}),
        from_email=None,
        recipient_list=[invitation.email],
    )
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at", "updated_at"])
    return True


def _invitation_fulfil(invitation: Invitation, user: User) -> None:
    """Give ``user`` the invitation's role and team, and mark the invitation used."""
    user.groups.add(Group.objects.get(name=invitation.role))
    if invitation.team is not None:
        invitation.team.members.add(user)
        if invitation.role == roles.Role.MANAGER:
            invitation.team.managers.add(user)
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user", "updated_at"])


@transaction.atomic
def invitation_accept(*, invitation: Invitation, password: str, first_name: str = "", last_name: str = "") -> User:
    """Create the invited person's account from the emailed link.

    The link proves the person reads that mailbox, so the address is stored verified and
    primary. Raises ValidationError when the invitation was used or expired meanwhile,
    or when the address got an account another way.
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise ValidationError("This invitation has expired or was already used.")
    if _email_has_account(invitation.email):
        raise ValidationError("Someone with this email address already has an account.")
    user = User.objects.create_user(invitation.email, password, first_name=first_name, last_name=last_name)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    _invitation_fulfil(invitation, user)
    return user


@transaction.atomic
def invitation_accept_by_sso(*, user: User) -> Invitation | None:
    """Apply the open invitation for ``user``'s email to an account company SSO just created.

    Whether the address is verified stays the identity provider's word (allauth asks for
    verification otherwise): an SSO login does not prove the person received the mail.
    """
    invitation = invitation_open_for_email(email=user.email)
    if invitation is None:
        return None
    invitation = Invitation.objects.select_for_update().filter(pk=invitation.pk, accepted_at__isnull=True).first()
    if invitation is None:  # used by a concurrent sign-in meanwhile
        return None
    _invitation_fulfil(invitation, user)
    return invitation
