"""Reads for invitations, scoped to what the asking user may see."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from socialcrm import roles
from socialcrm.models import Invitation, User


def invitation_list(*, user: User) -> QuerySet[Invitation]:
    """Invitations ``user`` may see: all for administrators, those into their teams for managers."""
    invitations = Invitation.objects.select_related("team", "invited_by", "accepted_user")
    if roles.is_admin(user):
        return invitations
    return invitations.filter(team__managers=user)


def invitation_open_for_email(*, email: str) -> Invitation | None:
    """The newest invitation to ``email`` that can still be accepted, if any."""
    return (
        Invitation.objects.select_related("team")
        .filter(email__iexact=email.strip(), accepted_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )


def invitation_from_link(*, token: str) -> Invitation | None:
    """The invitation an emailed link names, or None when the link is forged, expired or used."""
    invitation = Invitation.from_token(token)
    if invitation is None or not invitation.is_usable:
        return None
    return invitation
