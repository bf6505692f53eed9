"""Reads of contacts, scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from contacts.models import Activity, Contact, Organization
from socialcrm import roles
from socialcrm.models import Team


def _sees_everything(user: Any) -> bool:
    # DPO views of personal data are audited by the consent app.
    return bool(user.is_superuser) or roles.is_dpo(user)


def _own_teams(user: Any) -> list[Team]:
    """The teams ``user`` is a member or manager of (one query, cached on the user object)."""
    cached: list[Team] | None = getattr(user, "_own_teams", None)
    if cached is None:
        cached = (
            list(Team.objects.filter(Q(members=user) | Q(managers=user)).distinct().order_by("name", "id"))
            if roles.is_staff_member(user)
            else []
        )
        user._own_teams = cached
    return cached


def visible_team_ids(user: Any) -> list[int] | None:
    """Ids of the teams whose contacts ``user`` sees; None means every team."""
    if not user.is_authenticated or not user.is_active:
        return []
    if _sees_everything(user):
        return None
    return [team.pk for team in _own_teams(user)]


def visible_teams(user: Any) -> list[Team]:
    """The teams whose contacts ``user`` sees, by name (for pickers; no query after the first)."""
    if visible_team_ids(user) is None:
        return list(Team.objects.order_by("name", "id"))
    return _own_teams(user)


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


# --- The timeline ------------------------------------------------------------------------

TIMELINE_PAGE_SIZE = 25
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TimelineCursor:
    """Where a timeline page ends: the (occurred_at, id) of its last row.

    Encoded as ``<epoch microseconds>_<id>`` (integers only, so it round-trips exactly and
    needs no URL escaping).
    """

    occurred_at: datetime
    id: int

    @classmethod
    def of(cls, activity: Activity) -> TimelineCursor:
        return cls(activity.occurred_at, activity.pk)

    def encode(self) -> str:
        delta = self.occurred_at - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> TimelineCursor | None:
        """The cursor ``raw`` encodes, or None when it is missing or malformed."""
        if not raw:
            return None
        micros, _, pk = raw.partition("_")
        try:
            return cls(_EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except (ValueError, OverflowError):
            return None


@dataclass(frozen=True)
class TimelinePage:
    activities: list[Activity]
    next_cursor: TimelineCursor | None


def _keyset_page(
    activities: QuerySet[Activity], before: TimelineCursor | None, kinds: Iterable[str] | None, limit: int
) -> TimelinePage:
    if kinds:
        activities = activities.filter(kind__in=list(kinds))
    if before is not None:
        # The redundant ``occurred_at <= t`` bounds the index range scan; the OR breaks ties
        # on id, so rows sharing a timestamp are neither repeated nor skipped.
        activities = activities.filter(occurred_at__lte=before.occurred_at).filter(
            Q(occurred_at__lt=before.occurred_at) | Q(id__lt=before.id)
        )
    # One row more than the page tells whether there is a next page without a COUNT.
    rows = list(activities.order_by("-occurred_at", "-id")[: limit + 1])
    if len(rows) <= limit:
        return TimelinePage(rows, None)
    return TimelinePage(rows[:limit], TimelineCursor.of(rows[limit - 1]))


def timeline_page(
    *,
    user: Any,
    contact: Contact,
    before: TimelineCursor | None = None,
    kinds: Iterable[str] | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """One page of ``contact``'s timeline, newest first, strictly older than ``before``.

    Keyset pagination on (occurred_at, id) over ``activity_timeline_idx``: page 1000 costs
    what page 1 costs, and rows added meanwhile never shift a page. One query.
    ``contact`` comes from ``contact_get``; it is checked again against ``user`` (no query).
    """
    team_ids = visible_team_ids(user)
    if team_ids is not None and contact.team_id not in team_ids:
        raise Http404("No such contact.")
    activities = Activity.objects.filter(contact_id=contact.pk).select_related("actor")
    return _keyset_page(activities, before, kinds, limit)


def organization_timeline_page(
    *,
    user: Any,
    organization: Organization,
    before: TimelineCursor | None = None,
    kinds: Iterable[str] | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """One page of the combined timeline of the organization's people ``user`` may see. One query."""
    activities = Activity.objects.filter(contact__organization_id=organization.pk)
    team_ids = visible_team_ids(user)
    if team_ids is not None:
        activities = activities.filter(contact__team_id__in=team_ids)
    return _keyset_page(activities.select_related("actor", "contact"), before, kinds, limit)


def organization_people(*, user: Any, organization: Organization, limit: int = 200) -> list[Contact]:
    """The organization's people that ``user`` may see, by name, at most ``limit`` (one query)."""
    people = visible_contacts(user).filter(organization_id=organization.pk).select_related("owner")
    return list(people.order_by("archived", "display_name", "id")[:limit])


def activity_get(*, user: Any, pk: int) -> Activity:
    """The timeline entry ``pk`` if ``user`` may see its contact; Http404 otherwise."""
    activity = (
        Activity.objects.filter(pk=pk, contact__in=visible_contacts(user)).select_related("contact", "actor").first()
    )
    if activity is None:
        raise Http404("No such timeline entry.")
    return activity
