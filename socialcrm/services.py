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


def invitation_open_for_email(*, email: str) -> Invitation | None:
    return (
        Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def invitation_create(*, actor: User, email: str, role: roles.Role, team: Team | None) -> Invitation:
    """Invite ``email`` to join with ``role``; the email is sent after commit.

    Managers may invite only into teams they manage; admins anywhere.
    """
    email = email.strip().lower()
    if not (actor.is_superuser or roles.is_manager(actor)):
        raise PermissionDenied
    if not actor.is_superuser:
        if role == roles.Role.DPO:
            raise PermissionDenied("Only an administrator can invite a data protection officer.")
        if team is None or not team.managers.filter(pk=actor.pk).exists():
            raise PermissionDenied("Managers invite people into the teams they manage.")
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "Someone with this email address already has an account."})
    invitation = Invitation.objects.create(
        email=email,
        role=role.value,
        team=team,
        invited_by=actor,
        expires_at=timezone.now() + Invitation.VALID_FOR,
    )
    enqueue("socialcrm.tasks.send_invitation", invitation.pk)
    return invitation


def invitation_send(*, invitation: Invitation) -> None:
    """Email the invitation link (called by the task)."""
    link = settings.SITE_URL + reverse("team:accept_invitation", kwargs={"token": invitation.token})
    context = {"invitation": invitation, "link": link}
    send_mail(
        subject="[Social CRM] You are invited to join Social CRM",
        message=render_to_string("socialcrm/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, password: str, first_name: str = "", last_name: str = "") -> User:
    """Create the invited person's account with a verified email, role and team."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise ValidationError("This invitation has expired or was already used.")
    user = User.objects.create_user(invitation.email, password, first_name=first_name, last_name=last_name)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    user.groups.add(Group.objects.get(name=invitation.role))
    if invitation.team is not None:
        invitation.team.members.add(user)
        if invitation.role == roles.Role.MANAGER:
            invitation.team.managers.add(user)
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user", "updated_at"])
    return user
