"""Filters of the contact and organization lists: parse the query string, nothing else.

Every choice (team, owner, tag, organization) is limited to what the user may see, so a
foreign id in the URL is an invalid choice, never a peek into another team.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from functools import cache
from typing import Any
from urllib.parse import urlencode

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from contacts.models import OPEN_REMINDER_STATUSES, Contact, Organization, Reminder, Tag
from contacts.search import contact_search, contact_search_organizations
from socialcrm.models import User

ACTIVE, ARCHIVED, ALL = "active", "archived", "all"
STATUS_CHOICES = [(ACTIVE, "Active"), (ARCHIVED, "Archived"), (ALL, "Active and archived")]
OPEN_REMINDERS, NO_OPEN_REMINDERS = "open", "none"
_STATUS_FILTERS = {ACTIVE: Q(archived=False), ARCHIVED: Q(archived=True), ALL: Q()}


def _start_of_day(day: date) -> datetime:
    """Midnight of ``day`` in the current (the user's) time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _with_status_default(data: Mapping[str, Any] | None) -> dict[str, Any]:
    # Lists show active rows unless asked otherwise; the default stays out of the URL.
    # ``QueryDict.dict()`` keeps one value per key, which is all these filters take.
    values = data.dict() if isinstance(data, QueryDict) else dict(data or {})
    if not values.get("status"):
        values["status"] = ACTIVE
    return values


def _choices_once(rows: QuerySet[Any]) -> Callable[[], list[tuple[int, str]]]:
    """The choices of a picker over ``rows``, read at most once and only when needed."""

    @cache
    def choices() -> list[tuple[int, str]]:
        return [(row.pk, str(row)) for row in rows]

    return choices


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, email, organization, title"}),
        # Matches contacts/search.py: short terms are prefix searches (no trigram to look up).
        help_text="One or two letters find names and titles with a word starting with them; "
        "type 3 or more letters to search inside names, emails and organizations.",
    )
    team = django_filters.ChoiceFilter(field_name="team_id", label="Team", empty_label="All teams")
    # Plain choices read once, when the form validates a value or renders (the picker):
    # model choice fields read through a server-side cursor, then again to validate.
    owner = django_filters.ChoiceFilter(label="Owner", empty_label="Anyone")
    tag = django_filters.ChoiceFilter(field_name="tags", label="Tag", empty_label="Any tag")
    # A name rather than a picker: teams have thousands of organizations.
    organization = django_filters.CharFilter(label="Organization", method="filter_organization")
    contacted_after = django_filters.DateFilter(
        label="Last contacted on or after", method="filter_contacted_after", widget=forms.DateInput({"type": "date"})
    )
    contacted_before = django_filters.DateFilter(
        label="Last contacted before", method="filter_contacted_before", widget=forms.DateInput({"type": "date"})
    )
    reminders = django_filters.ChoiceFilter(
        choices=[(OPEN_REMINDERS, "With open reminders"), (NO_OPEN_REMINDERS, "Without open reminders")],
        method="filter_reminders",
        empty_label="Any",
        label="Reminders",
    )
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status", empty_label=None, label="Show")

    class Meta:
        model = Contact
        fields = [
            "q",
            "team",
            "owner",
            "tag",
            "organization",
            "contacted_after",
            "contacted_before",
            "reminders",
            "status",
        ]

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        queryset: QuerySet[Contact],
        *,
        teams: list[Any],
        owners: QuerySet[User],
        tags: QuerySet[Tag],
        search_limit: int | None = None,
    ) -> None:
        """``search_limit``: at most that many matches of a search (``contact_search``)."""
        super().__init__(_with_status_default(data), queryset)
        self.search_limit = search_limit
        self.filters["team"].extra["choices"] = [(team.pk, team.name) for team in teams]
        self.filters["owner"].extra["choices"] = _choices_once(owners)
        self.filters["tag"].extra["choices"] = _choices_once(tags)

    def filter_queryset(self, queryset: QuerySet[Contact]) -> QuerySet[Contact]:
        # The search last: it reads the ids of its matches among what the others leave.
        values = self.form.cleaned_data
        for name in sorted(values, key=lambda name: name == "q"):
            queryset = self.filters[name].filter(queryset, values[name])
        return queryset

    def filter_search(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        return contact_search(queryset, value, limit=self.search_limit)

    def filter_organization(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        return contact_search_organizations(queryset, value)

    def filter_contacted_after(self, queryset: QuerySet[Contact], name: str, value: date) -> QuerySet[Contact]:
        return queryset.filter(last_contacted_at__gte=_start_of_day(value))

    def filter_contacted_before(self, queryset: QuerySet[Contact], name: str, value: date) -> QuerySet[Contact]:
        return queryset.filter(last_contacted_at__lt=_start_of_day(value))

    def filter_reminders(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        # EXISTS over reminder_contact_idx (contact, status, due_at): one index probe per row.
        has_open = Exists(Reminder.objects.filter(contact=OuterRef("pk"), status__in=OPEN_REMINDER_STATUSES))
        return queryset.filter(has_open if value == OPEN_REMINDERS else ~has_open)

    def filter_status(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        return queryset.filter(_STATUS_FILTERS[value])


class OrganizationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or domain"}),
    )
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status", empty_label=None, label="Show")

    class Meta:
        model = Organization
        fields = ["q", "status"]

    def __init__(self, data: Mapping[str, Any] | None, queryset: QuerySet[Organization]) -> None:
        super().__init__(_with_status_default(data), queryset)

    def filter_search(self, queryset: QuerySet[Organization], name: str, value: str) -> QuerySet[Organization]:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value)) if value else queryset

    def filter_status(self, queryset: QuerySet[Organization], name: str, value: str) -> QuerySet[Organization]:
        return queryset.filter(_STATUS_FILTERS[value])


CONTACT_LIST_KEYS = (*ContactFilter.base_filters, "sort")
ORGANIZATION_LIST_KEYS = tuple(OrganizationFilter.base_filters)


def list_query(data: Mapping[str, Any], *, keys: tuple[str, ...] = CONTACT_LIST_KEYS, **overrides: str) -> str:
    """The contact list's query string for ``data``: known keys with values only, no cursor.

    What the URL, the sort links and saved views carry, so a bookmark or a saved view never
    holds stray parameters or a stale page position.
    """
    values = {key: str(data.get(key) or "").strip() for key in keys}
    values.update(overrides)
    return urlencode({key: value for key, value in values.items() if value})
