"""The contact page, the organization page, their timelines and the quick log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache, wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from contacts.context_processors import bell_prefetch, bell_prefetched
from contacts.forms import QuickLogForm
from contacts.models import Activity, Contact, Organization
from contacts.registry import (
    contact_panel_prefetches,
    contact_panel_prefetches_shape,
    contact_panels,
    contact_privacy,
    contact_privacy_for,
    shown_contacts,
)
from contacts.selectors import (
    ContactCard,
    TimelineCursor,
    TimelinePage,
    activity_get,
    contact_card_get,
    contact_get,
    organization_get,
    organization_people,
    organization_timeline_page,
    timeline_page,
)
from contacts.services import timeline as timeline_services
from contacts.templatetags.timeline import activity_body, kind_label_and_icon
from contacts.views.dedupe import follows_merged_contacts
from contacts.views.lists import HtmxHttpRequest
from socialcrm import roles
from socialcrm.audit.registry import Action
from socialcrm.audit.services import audit_record
from socialcrm.jinja import natural_time

# Staff who talk to people log interactions; the DPO reads but does not write timelines.
can_log = roles.role_required(roles.Role.SALES, roles.Role.MANAGER)

# The kind filter offers families of kinds rather than all thirteen.
KIND_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "email": ("Emails", (Activity.Kind.EMAIL,)),
    "call": ("Calls", (Activity.Kind.CALL,)),
    "meeting": ("Meetings", (Activity.Kind.MEETING,)),
    "note": ("Notes", (Activity.Kind.NOTE,)),
    "social": ("Public profiles & posts", (Activity.Kind.SOCIAL_POST, Activity.Kind.PROFILE_FOUND)),
    "reminder": (
        "Reminders",
        (Activity.Kind.REMINDER_CREATED, Activity.Kind.REMINDER_DONE, Activity.Kind.REMINDER_SNOOZED),
    ),
    "privacy": ("Privacy", (Activity.Kind.CONSENT_CHANGED, Activity.Kind.REQUEST)),
    "other": ("Other", (Activity.Kind.MERGED, Activity.Kind.SYSTEM)),
}

TIMELINE_CHANGED = "timeline-changed"


def user_timezone(user: Any) -> ZoneInfo:
    """The user's own time zone (``User.time_zone``), UTC when unset or unknown."""
    try:
        return ZoneInfo(getattr(user, "time_zone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_user_timezone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Parse and render the view in the signed-in user's time zone.

    The one place it is activated for these pages: templates' date filters, ``localdate``
    for day grouping and the quick log's datetime-local field all follow it.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(user_timezone(request.user)):
            return view(request, *args, **kwargs)

    return wrapped


@dataclass(frozen=True)
class TimelineEntry:
    """A timeline row with its time, icon and body rendered here (Python is cheaper than
    the template's ``date`` and ``naturaltime`` filters and tags)."""

    activity: Activity
    # For <time datetime>, its tooltip ("Monday 2 March 2026, 14:05 CET") and its text ("3 hours ago").
    iso: str
    full: str
    ago: str
    kind_label: str
    icon: SafeString
    body: SafeString
    # The name the entry's contact chose, on timelines that show whose entry it is (else None).
    contact_name: str | None

    @classmethod
    def of(
        cls,
        activity: Activity,
        local: datetime,
        long_day: str,
        language: str | None,
        shown_names: dict[int, str] | None = None,
    ) -> TimelineEntry:
        """``local`` is the entry's time in the user's time zone, ``long_day`` its date as
        ``_long_date`` writes it (the same for every entry of a day), ``language`` the active one."""
        contact_name = (
            None if shown_names is None else shown_names.get(activity.contact_id, activity.contact.display_name)
        )
        return cls(
            activity,
            local.isoformat(),
            f"{long_day}, {local:%H:%M} {local.tzname()}",
            natural_time(activity.occurred_at),
            *kind_label_and_icon(activity.kind, language),
            activity_body(activity),
            contact_name,
        )


@dataclass
class DayGroup:
    day: date
    label: str
    # True when the previous page ended on this day, so the heading is not repeated.
    continued: bool
    entries: list[TimelineEntry] = field(default_factory=list)


# The weekdays' and the months' names, Monday first and January first.
DateNames = tuple[tuple[str, ...], tuple[str, ...]]


@lru_cache(maxsize=32)
def _date_names(language: str | None) -> DateNames:
    """The names in ``language`` (the active one)."""
    return tuple(str(WEEKDAYS[n]) for n in range(7)), tuple(str(MONTHS[n]) for n in range(1, 13))


def _long_date(day: date, names: DateNames, *, year: bool = True) -> str:
    """The date as Django's ``l j F Y`` ("Monday 2 March 2026") or ``l j F`` writes it, with
    the same translated names, without parsing a format string for every call."""
    weekdays, months = names
    text = f"{weekdays[day.weekday()]} {day.day} {months[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def _day_label(day: date, today: date, names: DateNames) -> str:
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return _long_date(day, names, year=day.year != today.year)


def group_by_day(
    activities: list[Activity],
    continuing_from: TimelineCursor | None = None,
    shown_names: dict[int, str] | None = None,
) -> list[DayGroup]:
    """Consecutive entries grouped by their day in the current (the user's) time zone;
    with ``shown_names`` (the names contacts chose, by id) each entry names its contact."""
    zone = timezone.get_current_timezone()
    language = get_language()
    names = _date_names(language)
    today = timezone.localdate(timezone=zone)
    previous_day = timezone.localdate(continuing_from.occurred_at, zone) if continuing_from else None
    groups: list[DayGroup] = []
    long_day = ""
    for activity in activities:
        local = timezone.localtime(activity.occurred_at, zone)
        day = local.date()
        if not groups or groups[-1].day != day:
            groups.append(DayGroup(day, _day_label(day, today, names), continued=not groups and day == previous_day))
            long_day = _long_date(day, names)
        groups[-1].entries.append(TimelineEntry.of(activity, local, long_day, language, shown_names))
    return groups


def _selected_filters(request: HttpRequest) -> list[str]:
    return [key for key in request.GET.getlist("kind") if key in KIND_FILTERS]


def _kinds(selected: list[str]) -> list[str]:
    return [kind for key in selected for kind in KIND_FILTERS[key][1]]


def _timeline_context(
    request: HttpRequest,
    *,
    page: TimelinePage,
    before: TimelineCursor | None,
    selected: list[str],
    page_url: str,
    fragment_url: str,
    shown_names: dict[int, str] | None = None,
) -> dict[str, Any]:
    """The timeline section's context; ``timeline_rows`` is its entries already rendered
    (a Jinja2 template, which the section and the htmx "load more" answer show as is)."""
    filter_params = [("kind", key) for key in selected]
    more_query = urlencode([*filter_params, ("before", page.next_cursor.encode())]) if page.next_cursor else ""
    now = timezone.now()
    context = {
        "groups": group_by_day(page.activities, before, shown_names),
        "cursor": before,
        "next_cursor": page.next_cursor,
        "more_query": more_query,
        "filter_query": urlencode(filter_params),
        "kind_filters": [(key, label, key in selected) for key, (label, _) in KIND_FILTERS.items()],
        "page_url": page_url,
        "fragment_url": fragment_url,
        "editable": {
            activity.pk
            for activity in page.activities
            if timeline_services.activity_can_edit(actor=request.user, activity=activity, now=now)
        },
        "tz_name": timezone.get_current_timezone_name(),
    }
    rows = render_to_string("contacts/partials/timeline_rows.html", context, request)
    context["timeline_rows"] = mark_safe(rows)  # noqa: S308 - an autoescaping engine's output
    return context


def _contact_timeline(request: HttpRequest, contact: Contact) -> dict[str, Any]:
    before = TimelineCursor.decode(request.GET.get("before"))
    selected = _selected_filters(request)
    page = timeline_page(user=request.user, contact=contact, before=before, kinds=_kinds(selected))
    return _timeline_context(
        request,
        page=page,
        before=before,
        selected=selected,
        page_url=reverse("contacts:detail", kwargs={"pk": contact.pk}),
        fragment_url=reverse("contacts:timeline", kwargs={"pk": contact.pk}),
    )


def _quick_log_form() -> QuickLogForm:
    return QuickLogForm(initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)})


def _quick_log_context(contact: Contact, form: QuickLogForm) -> dict[str, Any]:
    return {"form": form, "form_action": reverse("contacts:quick_log", kwargs={"pk": contact.pk}), "contact": contact}


def _contact_card(request: HttpRequest, pk: int) -> ContactCard:
    """The contact with what the header card, the panels and the header's bell show: one query."""
    card = contact_card_get(
        user=request.user,
        pk=pk,
        annotations=lambda: {**contact_panel_prefetches(request), **bell_prefetch(request)},
        annotations_shape=contact_panel_prefetches_shape(),
    )
    bell_prefetched(request, card.contact)
    return card


def _render_contact_page(request: HttpRequest, card: ContactCard, form: QuickLogForm | None = None) -> HttpResponse:
    contact = card.contact
    may_log = roles.has_role(request.user, roles.Role.SALES, roles.Role.MANAGER)
    # The name the person chose and the attributes they withhold (consent's preferences).
    privacy = contact_privacy(contact)
    # A panel's render() returns a rendered template (SafeString); a plain str is escaped.
    panels = [(panel.name, panel.render(request, contact)) for panel in contact_panels()]
    context = {
        "contact": contact,
        "name": privacy.name_for(contact),
        "title": contact.title if privacy.shows("title") else "",
        "organization": contact.organization if privacy.shows("organization") else None,
        "location": contact.location if privacy.shows("location") else "",
        "methods": [method for method in card.methods if privacy.shows(method.kind)],
        "tags": card.tags,
        "panels": panels,
        **_contact_timeline(request, contact),
        **(_quick_log_context(contact, form or _quick_log_form()) if may_log else {}),
    }
    return render(request, "contacts/detail.html", context)


@require_GET
@roles.staff_required
@follows_merged_contacts
@in_user_timezone
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Ten queries in all, every panel included: see tests/contacts/test_contact_page_budget.py.
    card = _contact_card(request, pk)
    # Opening someone's record is an access to personal data: audited once per page view
    # (the timeline's htmx fragments are part of the same view and are not). A read: its
    # event does not wait for the disk flush (docs/audit.md).
    audit_record(
        actor=request.user,
        action=Action.CONTACT_VIEWED,
        object_type="contact",
        object_id=card.contact.pk,
        durable=False,
    )
    return _render_contact_page(request, card)


@require_GET
@roles.staff_required
@in_user_timezone
def contact_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline fragment: the whole section (filters changed) or the next rows ("load more")."""
    contact = contact_get(user=request.user, pk=pk)
    context = _contact_timeline(request, contact)
    if context["cursor"]:
        return HttpResponse(context["timeline_rows"])
    return render(request, "contacts/partials/timeline.html", context)


def _redirect_to_timeline(contact_id: int) -> HttpResponse:
    return redirect(reverse("contacts:detail", kwargs={"pk": contact_id}) + "#timeline")


@require_POST
@can_log
@in_user_timezone
def quick_log_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = contact_get(user=request.user, pk=pk)
    form = QuickLogForm(request.POST)
    if form.is_valid():
        timeline_services.activity_record(
            contact=contact,
            actor=request.user,
            source=timeline_services.MANUAL_SOURCE,
            **form.cleaned_data,
        )
        if not request.htmx:
            messages.success(request, "Logged on the timeline.")
            return _redirect_to_timeline(contact.pk)
        form = _quick_log_form()
        response = render(request, "contacts/partials/quick_log.html", _quick_log_context(contact, form))
        return trigger_client_event(response, TIMELINE_CHANGED)
    if request.htmx:
        return render(request, "contacts/partials/quick_log.html", _quick_log_context(contact, form))
    return _render_contact_page(request, _contact_card(request, pk), form)


@require_http_methods(["GET", "POST"])
@can_log
@in_user_timezone
def activity_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = activity_get(user=request.user, pk=pk)
    if not timeline_services.activity_can_edit(actor=request.user, activity=activity):
        raise PermissionDenied("Only the author can change this entry, within 24 hours of logging it.")
    initial = {
        "occurred_at": activity.occurred_at,
        "direction": activity.direction,
        "subject": activity.subject,
        "body": activity.body,
    }
    form = QuickLogForm(request.POST or None, initial=initial, kind=activity.kind)
    if request.method == "POST" and form.is_valid():
        timeline_services.activity_update(actor=request.user, activity=activity, **form.cleaned_data)
        if request.htmx:
            return trigger_client_event(HttpResponse(""), TIMELINE_CHANGED)
        messages.success(request, "Entry updated.")
        return _redirect_to_timeline(activity.contact_id)
    context = {
        "form": form,
        "form_action": reverse("contacts:activity_edit", kwargs={"pk": activity.pk}),
        "contact": activity.contact,
        "contact_name": contact_privacy(activity.contact).name_for(activity.contact),
        "activity": activity,
    }
    template = "contacts/partials/quick_log.html" if request.htmx else "contacts/activity_edit.html"
    return render(request, template, context)


@require_POST
@can_log
def activity_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = activity_get(user=request.user, pk=pk)
    contact_id = activity.contact_id
    timeline_services.activity_delete(actor=request.user, activity=activity)
    if request.htmx:
        # The entry's element is swapped for nothing.
        return HttpResponse("")
    messages.success(request, "Entry deleted.")
    return _redirect_to_timeline(contact_id)


def _organization_timeline(
    request: HttpRequest, organization: Organization, people: list[Contact] | None = None
) -> dict[str, Any]:
    """The combined timeline's context; with ``people``, also their list rows (see below)."""
    before = TimelineCursor.decode(request.GET.get("before"))
    selected = _selected_filters(request)
    page = organization_timeline_page(
        user=request.user, organization=organization, before=before, kinds=_kinds(selected)
    )
    # One privacy query for the entries' contacts and the people list: the names they chose,
    # and who withholds their organization (left out of its page; the cursor stays the page's).
    privacy = contact_privacy_for([*(people or []), *(activity.contact for activity in page.activities)])
    shown = [activity for activity in page.activities if privacy[activity.contact_id].shows("organization")]
    page = TimelinePage(shown, page.next_cursor)
    context = _timeline_context(
        request,
        page=page,
        before=before,
        selected=selected,
        page_url=reverse("contacts:organization_detail", kwargs={"pk": organization.pk}),
        fragment_url=reverse("contacts:organization_timeline", kwargs={"pk": organization.pk}),
        shown_names={
            activity.contact_id: privacy[activity.contact_id].name_for(activity.contact) for activity in shown
        },
    )
    if people is not None:
        listed = [person for person in people if privacy[person.pk].shows("organization")]
        context["people"] = shown_contacts(listed, privacy=privacy)
        # A Jinja2 fragment, shown as is (up to 200 rows).
        rows = render_to_string("contacts/partials/organization_people.html", {"people": context["people"]})
        context["people_rows"] = mark_safe(rows)  # noqa: S308 - an autoescaping engine's output
    return context


ORGANIZATION_PEOPLE_SHOWN = 200


@require_GET
@roles.staff_required
@in_user_timezone
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = organization_get(
        user=request.user, pk=pk, annotations=lambda: bell_prefetch(request), annotations_shape="bell"
    )
    bell_prefetched(request, organization)
    # One more than is shown tells whether to point to the full list.
    people = organization_people(user=request.user, organization=organization, limit=ORGANIZATION_PEOPLE_SHOWN + 1)
    context = {
        "organization": organization,
        "more_people": len(people) > ORGANIZATION_PEOPLE_SHOWN,
        **_organization_timeline(request, organization, people[:ORGANIZATION_PEOPLE_SHOWN]),
    }
    return render(request, "contacts/organization_detail.html", context)


@require_GET
@roles.staff_required
@in_user_timezone
def organization_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    organization = organization_get(user=request.user, pk=pk)
    context = _organization_timeline(request, organization)
    if context["cursor"]:
        return HttpResponse(context["timeline_rows"])
    return render(request, "contacts/partials/timeline.html", context)
