"""Reads of reminders and notifications, scoped to what the user may see.

The rule (``visible_reminders``): a reminder is seen by its assignee and by the managers of
the contact's team (admins see all), and never by anyone who cannot see the contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from contacts.models import (
    OPEN_REMINDER_STATUSES,
    Activity,
    Contact,
    Notification,
    NotificationPreference,
    Reminder,
    TeamSettings,
)
from contacts.registry import contact_privacy_for
from contacts.selectors import (
    JSONFields,
    managed_team_ids,
    model_json_rows,
    models_from_json,
    visible_contacts,
    visible_team_ids,
)
from socialcrm import roles
from socialcrm.models import Team, User
from socialcrm.stored_queries import RequestNow

PENDING = Q(status__in=OPEN_REMINDER_STATUSES)
UPCOMING_LIMIT = 50
DONE_LIMIT = 20
SECTION_LIMIT = 200
CHART_WEEKS = 8


def works_with_reminders(user: Any) -> bool:
    """Reminders are sales work: sales and managers (admins hold every role), not the DPO."""
    return bool(user.is_authenticated) and roles.has_role(user, roles.Role.SALES, roles.Role.MANAGER)


def visible_reminders(user: Any) -> QuerySet[Reminder]:
    """Reminders ``user`` may see (and act on): their own, and their managed teams' (admins: all)."""
    if not works_with_reminders(user):
        return Reminder.objects.none()
    team_ids = visible_team_ids(user)
    if team_ids is None:
        return Reminder.objects.all()
    managed = Team.objects.filter(managers=user).values("pk")
    return Reminder.objects.filter(contact__team_id__in=team_ids).filter(
        Q(assignee=user) | Q(contact__team_id__in=managed)
    )


def last_email_sent() -> Subquery:
    """A contact's newest outbound email time (what awaiting reply waits on), as a subquery on ``pk``."""
    return Subquery(
        Activity.objects.filter(contact=OuterRef("pk"), kind=Activity.Kind.EMAIL, direction=Activity.Direction.OUTBOUND)
        .order_by("-occurred_at", "-id")
        .values("occurred_at")[:1]
    )


def reminder_get(*, user: Any, pk: int) -> Reminder:
    """The reminder ``pk`` if ``user`` may see it; Http404 otherwise."""
    reminder = visible_reminders(user).select_related("contact", "assignee").filter(pk=pk).first()
    if reminder is None:
        raise Http404("No such reminder.")
    return reminder


def reminders_for_ids(*, user: Any, ids: Iterable[int]) -> list[Reminder]:
    """The visible reminders among ``ids`` (bulk actions), in one query."""
    return list(visible_reminders(user).select_related("contact", "assignee").filter(pk__in=list(ids)))


def _due(user: Any, now: datetime | None) -> QuerySet[Reminder]:
    reminders = Reminder.objects.filter(PENDING, assignee=user, due_at__lte=now or RequestNow())
    if not roles.is_admin(user):
        # A subquery rather than visible_team_ids(): no second query on pages that never need it.
        reminders = reminders.filter(
            contact__team_id__in=Team.objects.filter(Q(members=user) | Q(managers=user)).values("pk")
        )
    return reminders


def due_count(user: Any, now: datetime | None = None) -> int:
    """The bell: how many of the user's own reminders are due or overdue. One indexed query."""
    if not works_with_reminders(user):
        return 0
    return _due(user, now).count()


def due_count_subquery(user: Any) -> Subquery:
    """``due_count`` as a scalar subquery, for a page to fold the bell into its main query."""
    counted = _due(user, None).order_by().annotate(due=Func(F("pk"), function="COUNT")).values("due")
    return Subquery(counted, output_field=IntegerField())


# The contact page's contact query brings the reminders panel's reminders along (``panel_prefetch``).
REMINDERS_ANNOTATION = "reminders_panel_reminders"
ASSIGNEE_FIELDS = ("id", "first_name", "last_name", "email")


def _assignees(team_id: Any) -> QuerySet[User]:
    return User.objects.filter(Q(teams=team_id) | Q(managed_teams=team_id), is_active=True)


def panel_prefetch(user: Any) -> dict[str, Subquery]:
    """The panel's reminders (with their assignees' names), as an annotation of the contact
    page's contact query. (The new-reminder form, with its assignee picker, is loaded when
    the panel's disclosure is opened.)"""
    if not works_with_reminders(user):
        return {}
    assignee = JSONFields(**{name: f"assignee__{name}" for name in ASSIGNEE_FIELDS})
    return {REMINDERS_ANNOTATION: model_json_rows(_panel_reminders(user, OuterRef("pk"), None), assignee=assignee)}


def assignable_users(*, user: Any, contact: Contact) -> list[User]:
    """Who ``user`` may assign a reminder on ``contact`` to: managers pick from the contact's
    team (one query; the team check reuses the visibility query)."""
    if roles.is_admin(user) or contact.team_id in managed_team_ids(user):
        people = list(_assignees(contact.team_id).only(*ASSIGNEE_FIELDS).distinct())
        return sorted(
            people, key=lambda person: (person.first_name.casefold(), person.last_name.casefold(), person.email)
        )
    return [user]


def contact_names(contacts: Iterable[Contact]) -> dict[int, str]:
    """The names to show staff (the one the person chose, when they chose one), one query."""
    contacts = list({contact.pk: contact for contact in contacts}.values())
    privacy = contact_privacy_for(contacts)
    return {contact.pk: privacy[contact.pk].name_for(contact) for contact in contacts}


def label_contacts(rows: Iterable[Any]) -> dict[int, str]:
    """Set ``contact_label`` (the name to show) on rows with a ``contact`` (reminders, activities)."""
    rows = list(rows)
    names = contact_names(row.contact for row in rows)
    for row in rows:
        row.contact_label = names[row.contact_id]
    return names


def local_day_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Start of today and of tomorrow in ``zone`` (23 or 25 hours apart on DST days)."""
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None).replace(tzinfo=zone)
    following = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    return start, following.replace(tzinfo=zone)


@dataclass
class ReminderSections:
    """The "My reminders" page: overdue (due before now), later today, upcoming, recently done."""

    overdue: list[Reminder]
    today: list[Reminder]
    upcoming: list[Reminder]
    done: list[Reminder]
    names: dict[int, str] = field(default_factory=dict)

    @property
    def pending(self) -> list[Reminder]:
        return [*self.overdue, *self.today, *self.upcoming]


def reminder_assignees(user: Any) -> list[User]:
    """Whose reminders ``user`` may list on "My reminders": managers pick among the people of
    the teams they manage (admins: everyone); anyone else sees only their own."""
    teams = dashboard_teams(user) if roles.is_manager(user) else []
    if not teams:
        return [user]
    people = User.objects.filter(Q(teams__in=teams) | Q(managed_teams__in=teams) | Q(pk=user.pk), is_active=True)
    return list(people.distinct().order_by("first_name", "last_name", "email"))


def my_reminders(*, user: Any, zone: ZoneInfo, now: datetime | None = None, assignee: Any = None) -> ReminderSections:
    """``assignee``'s reminders (default: the user's own) by section, as far as ``user`` sees
    them (a manager: on their teams' contacts). Four queries, plus one for the contacts' names."""
    now = now or timezone.now()
    _, tomorrow = local_day_bounds(now, zone)
    mine = visible_reminders(user).filter(assignee=assignee or user).select_related("contact")
    pending = mine.filter(PENDING).order_by("due_at", "id")
    sections = ReminderSections(
        overdue=list(pending.filter(due_at__lte=now)[:SECTION_LIMIT]),
        today=list(pending.filter(due_at__gt=now, due_at__lt=tomorrow)[:SECTION_LIMIT]),
        upcoming=list(pending.filter(due_at__gte=tomorrow)[:UPCOMING_LIMIT]),
        done=list(mine.filter(status=Reminder.Status.DONE).order_by("-completed_at", "-id")[:DONE_LIMIT]),
    )
    sections.names = label_contacts([*sections.pending, *sections.done])
    return sections


def digest_items(*, user: Any, zone: ZoneInfo, now: datetime) -> tuple[list[Reminder], list[Reminder]]:
    """A user's digest: (overdue, due later today in their zone), their own reminders only."""
    _, tomorrow = local_day_bounds(now, zone)
    pending = visible_reminders(user).filter(PENDING, assignee=user, due_at__lt=tomorrow)
    items = list(pending.select_related("contact").order_by("due_at", "id")[: 2 * SECTION_LIMIT])
    return [r for r in items if r.due_at <= now], [r for r in items if r.due_at > now]


def _panel_reminders(user: Any, contact_ref: Any, now: datetime | None) -> QuerySet[Reminder]:
    since = RequestNow(-timedelta(days=30)) if now is None else now - timedelta(days=30)
    return visible_reminders(user).filter(contact_id=contact_ref).filter(PENDING | Q(completed_at__gte=since))


def _reminders_from_json(rows: list[dict[str, Any]] | None) -> list[Reminder]:
    reminders = models_from_json(Reminder, rows)
    assignees = models_from_json(User, [row["assignee"] for row in rows or []])
    for reminder, assignee in zip(reminders, assignees, strict=True):
        reminder.assignee = assignee
    return sorted(reminders, key=lambda reminder: (reminder.due_at, reminder.pk))


def contact_reminders(
    *, user: Any, contact: Contact, now: datetime | None = None
) -> tuple[list[Reminder], list[Reminder]]:
    """The contact page's panel: (pending, closed in the last 30 days) reminders ``user`` sees.

    From ``panel_prefetch``'s annotation when the contact has it (the contact page), else one query.
    """
    if REMINDERS_ANNOTATION in contact.__dict__:
        rows = _reminders_from_json(contact.__dict__[REMINDERS_ANNOTATION])
    else:
        rows = list(_panel_reminders(user, contact.pk, now).select_related("assignee").order_by("due_at", "id"))
    closed = sorted((r for r in rows if not r.is_pending), key=lambda r: r.completed_at or r.due_at, reverse=True)
    return [r for r in rows if r.is_pending], closed[:5]


def notification_list(*, user: Any, limit: int = 50) -> list[Notification]:
    """The user's notifications, newest first (digests with nothing in them left out).

    A "reminder due" row names a contact, so it is listed only while its reminder is still
    one ``user`` sees: after someone leaves a team, that team's contacts drop out. Digest
    rows hold counts only.
    """
    return list(
        Notification.objects.filter(user=user)
        .filter(Q(reminder__isnull=True) | Q(reminder__in=visible_reminders(user).values("pk")))
        .exclude(kind=Notification.Kind.DIGEST, summary="")
        .select_related("reminder__contact")
        .order_by("-created_at", "-id")[:limit]
    )


# --- the manager's team dashboard -------------------------------------------------------------


@dataclass
class PersonRow:
    user: User
    open: int = 0
    overdue: int = 0
    past_cadence: int = 0
    awaiting_reply: int = 0
    history: list[int] = field(default_factory=list)


@dataclass
class TeamDashboard:
    teams: list[Team]
    people: list[PersonRow]
    weeks: list[datetime]
    settings: dict[int, TeamSettings] = field(default_factory=dict)


def dashboard_teams(user: Any) -> list[Team]:
    """The teams whose dashboard ``user`` sees: the ones they manage (admins: all)."""
    if roles.is_admin(user):
        return list(Team.objects.order_by("name"))
    return list(Team.objects.filter(managers=user).order_by("name"))


def team_dashboard(*, user: Any, now: datetime | None = None) -> TeamDashboard:
    """Per person of the managed teams: open and overdue reminders, contacts past their cadence,
    contacts awaiting a reply, and overdue reminders at each of the last 8 week ends.

    Seven queries whatever the team size: teams, people, reminders, cadence, team settings,
    replies, history.
    """
    now = now or timezone.now()
    teams = dashboard_teams(user)
    team_ids = [team.pk for team in teams]
    people = list(
        User.objects.filter(Q(teams__in=team_ids) | Q(managed_teams__in=team_ids), is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "email")
    )
    rows = {person.pk: PersonRow(user=person) for person in people}
    reminders = Reminder.objects.filter(contact__team_id__in=team_ids, assignee_id__in=list(rows))
    for assignee_id, open_count, overdue_count in (
        reminders.filter(PENDING)
        .values("assignee_id")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lte=now)))
        .values_list("assignee_id", "open", "overdue")
    ):
        rows[assignee_id].open = open_count
        rows[assignee_id].overdue = overdue_count
    contacts = Contact.objects.filter(team_id__in=team_ids, owner_id__in=list(rows), archived=False)
    pending_cadence = Reminder.objects.filter(PENDING, contact=OuterRef("pk"), kind=Reminder.Kind.CADENCE)
    past_cadence = contacts.filter(Q(cadence_due_at__lte=now) | Exists(pending_cadence))
    # Awaiting reply, as the nudges mean it: the last outbound email is older than the team's
    # delay and nothing came in since (one condition per team: the delay is a team setting).
    delays = team_settings_for(teams)
    sent = contacts.annotate(last_email_sent=last_email_sent())
    awaiting = sent.filter(
        Q(last_inbound_at__isnull=True) | Q(last_email_sent__gt=F("last_inbound_at")),
        reduce(
            or_,
            (
                Q(team_id=team.pk, last_email_sent__lte=now - timedelta(days=delays[team.pk].awaiting_reply_days))
                for team in teams
            ),
            Q(pk__in=[]),
        ),
    )
    for owner_id, count in past_cadence.values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n"):
        rows[owner_id].past_cadence = count
    for owner_id, count in awaiting.values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n"):
        rows[owner_id].awaiting_reply = count
    weeks = [now - timedelta(weeks=CHART_WEEKS - 1 - i) for i in range(CHART_WEEKS)]
    # Overdue at instant t: due before t, created by t, and not yet closed at t.
    history = {
        f"w{i}": Count(
            "id",
            filter=Q(due_at__lt=t, created_at__lte=t) & (Q(completed_at__isnull=True) | Q(completed_at__gt=t)),
        )
        for i, t in enumerate(weeks)
    }
    counted = (
        reminders.filter(due_at__lt=now)
        .filter(Q(completed_at__isnull=True) | Q(completed_at__gt=weeks[0]))
        .values("assignee_id")
        .annotate(**history)
        .values_list("assignee_id", *history)
    )
    for person in rows.values():
        person.history = [0] * CHART_WEEKS
    for assignee_id, *weekly in counted:
        rows[assignee_id].history = list(weekly)
    return TeamDashboard(teams=teams, people=list(rows.values()), weeks=weeks, settings=delays)


def notification_preference(user: Any) -> NotificationPreference:
    """The user's preferences (an unsaved default row when they never set any)."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def team_settings_for(teams: Iterable[Team]) -> dict[int, TeamSettings]:
    """Each team's reminder settings (unsaved defaults for teams without a row), one query."""
    teams = list(teams)
    found = {row.team_id: row for row in TeamSettings.objects.filter(team__in=teams)}
    return {team.pk: found.get(team.pk) or TeamSettings(team=team) for team in teams}


def reminders_export(contact: Contact) -> list[dict[str, Any]]:
    """Export: the contact's reminders, JSON-safe (who they were assigned to as an id only)."""
    return [
        {
            "kind": reminder.kind,
            "status": reminder.status,
            "due_at": reminder.due_at.isoformat(),
            "note": reminder.note,
            "recurrence": reminder.recurrence,
            "assignee_id": reminder.assignee_id,
            "created_at": reminder.created_at.isoformat(),
            "completed_at": reminder.completed_at.isoformat() if reminder.completed_at else None,
        }
        for reminder in Reminder.objects.filter(contact=contact).order_by("due_at", "id")
    ]


def recent_activity(*, user: Any, limit: int = 8) -> list[Activity]:
    """The user's own latest timeline entries on contacts they still see (the home page)."""
    return list(
        Activity.objects.filter(contact__in=visible_contacts(user), actor=user)
        .select_related("contact")
        .order_by("-occurred_at", "-id")[:limit]
    )
