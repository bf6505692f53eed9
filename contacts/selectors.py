"""Reads of contacts, scoped to what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from contacts.models import Contact, Organization
from socialcrm import roles


def _sees_everything(user: Any) -> bool:
    # DPO views of personal data are audited by the consent app.
    return bool(user.is_superuser) or roles.is_dpo(user)


def visible_team_ids(user: Any) -> list[int] | None:
    """Ids of the teams whose contacts ``user`` sees; None means every team."""
    if not user.is_authenticated or not user.is_active:
        return []
    if _sees_everything(user):
        return None
    cached: list[int] | None = getattr(user, "_visible_team_ids", None)
    if cached is None:
        member_of = set(user.teams.values_list("id", flat=True))
        manages = set(user.managed_teams.values_list("id", flat=True))
        cached = sorted(member_of | manages) if roles.is_staff_member(user) else []
        user._visible_team_ids = cached
    return cached


def visible_contacts(user: Any) -> QuerySet[Contact]:
    """The one rule for who sees which contacts.

    Sales and managers see their teams' contacts; DPOs and admins see all; anyone
    else sees none.
    """
    team_ids = visible_team_ids(user)
    if team_ids is None:
        return Contact.objects.all()
    return Contact.objects.filter(team_id__in=team_ids)


def visible_organizations(user: Any) -> QuerySet[Organization]:
    team_ids = visible_team_ids(user)
    if team_ids is None:
        return Organization.objects.all()
    return Organization.objects.filter(team_id__in=team_ids)


def contact_get(*, user: Any, pk: int) -> Contact:
    """The contact ``pk`` if ``user`` may see it; Http404 otherwise (never 403, to hide existence)."""
    contact = visible_contacts(user).select_related("organization", "owner", "team").filter(pk=pk).first()
    if contact is None:
        raise Http404("No such contact.")
    return contact


def organization_get(*, user: Any, pk: int) -> Organization:
    organization = visible_organizations(user).select_related("team").filter(pk=pk).first()
    if organization is None:
        raise Http404("No such organization.")
    return organization
