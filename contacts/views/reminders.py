"""Reminders: "My reminders", the contact page's panel, notifications, the calendar feed, the team dashboard."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import calendar
from contacts import selectors_reminders as reminder_selectors
from contacts.charts import overdue_chart
from contacts.forms_reminders import (
    BulkReminderForm,
    CadenceForm,
    NotificationPreferenceForm,
    ReminderForm,
    SnoozeForm,
    TeamSettingsForm,
)
from contacts.models import Contact, Reminder
from contacts.selectors import contact_get
from contacts.services import notifications as notification_services
from contacts.services import reminders as reminder_services
from contacts.views.detail import in_user_timezone
from contacts.views.lists import HtmxHttpRequest
from socialcrm import roles

# Reminders are sales work: sales and managers (admins hold every role); the DPO has none.
works_with_reminders = roles.role_required(roles.Role.SALES, roles.Role.MANAGER)
manager_only = roles.role_required(roles.Role.MANAGER)


def _zone(request: HttpRequest) -> Any:
    return reminder_services.user_zone(request.user)


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


# --- the contact page's panel ------------------------------------------------------------------


def _reminder_form(request: HttpRequest, contact: Contact) -> ReminderForm:
    assignees = reminder_selectors.assignable_users(user=request.user, contact=contact)
    return ReminderForm(assignees=assignees, default_assignee=request.user, initial={"assignee": request.user.pk})


def _panel_context(request: HttpRequest, contact: Contact, form: ReminderForm | None = None) -> dict[str, Any]:
    """Without ``form`` (one with errors, or the new-reminder page's), the panel leaves the
    form out: it is folded away, and loaded when opened (``reminder_create``'s GET)."""
    user = request.user
    pending, closed = reminder_selectors.contact_reminders(user=user, contact=contact)
    may_write = roles.has_role(user, roles.Role.SALES, roles.Role.MANAGER)
    context: dict[str, Any] = {
        "contact": contact,
        "now": timezone.now(),
        "pending": pending,
        "closed": closed,
        "may_write": may_write,
        "form": form,
        "snooze_presets": reminder_services.SNOOZE_PRESETS,
        "panel_url": reverse("contacts:contact_reminders", kwargs={"pk": contact.pk}),
    }
    if may_write and reminder_services.contact_can_set_cadence(actor=user, contact=contact):
        context["cadence_form"] = CadenceForm(initial={"cadence_days": contact.cadence_days})
    return context


def reminder_panel(request: HttpRequest, contact: Contact, form: ReminderForm | None = None) -> SafeString:
    """The contact page's reminders panel (registered with ``register_contact_panel``), a
    Jinja2 template (templates/jinja2/), which pages show rendered."""
    return SafeString(
        render_to_string(
            "contacts/partials/reminder_panel.html", _panel_context(request, contact, form), request=request
        )
    )


def _panel_response(request: HttpRequest, contact: Contact, form: ReminderForm | None = None) -> HttpResponse:
    return HttpResponse(reminder_panel(request, contact, form))


def _after_action(request: HtmxHttpRequest, contact: Contact, message: str) -> HttpResponse:
    """htmx: the panel again; otherwise back where the form was (the contact page by default)."""
    if request.htmx:
        return _panel_response(request, contact)
    messages.success(request, message)
    return redirect(_next_url(request, reverse("contacts:detail", kwargs={"pk": contact.pk}) + "#reminders"))


@require_GET
@works_with_reminders
@in_user_timezone
def contact_reminders(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel on its own (htmx refresh)."""
    return _panel_response(request, contact_get(user=request.user, pk=pk))


def _reminder_form_page(request: HttpRequest, contact: Contact, form: ReminderForm, status: int = 200) -> HttpResponse:
    context = {"contact": contact, "reminder_panel": reminder_panel(request, contact, form)}
    return render(request, "contacts/reminder_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@works_with_reminders
@in_user_timezone
def reminder_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Set a reminder. GET answers the form alone for the panel's disclosure (htmx), or the
    panel with its form open on a page of its own (without JavaScript)."""
    contact = contact_get(user=request.user, pk=pk)
    if request.method == "GET":
        if request.htmx:
            context = {"contact": contact, "form": _reminder_form(request, contact)}
            return render(request, "contacts/partials/reminder_form.html", context)
        return _reminder_form_page(request, contact, _reminder_form(request, contact))
    assignees = reminder_selectors.assignable_users(user=request.user, contact=contact)
    form = ReminderForm(request.POST, assignees=assignees, default_assignee=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            reminder_services.reminder_create(
                actor=request.user,
                contact=contact,
                assignee=data["assignee"],
                due_at=data["due_at"],
                note=data["note"],
                recurrence=data["recurrence"] or Reminder.Recurrence.NONE,
                interval_days=data["interval_days"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _after_action(request, contact, "Reminder set.")
    if request.htmx:
        return _panel_response(request, contact, form)
    return _reminder_form_page(request, contact, form, status=400)


def _act(request: HtmxHttpRequest, pk: int, action: Any, message: str) -> HttpResponse:
    reminder = reminder_selectors.reminder_get(user=request.user, pk=pk)
    try:
        action(reminder)
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(exc.messages), status=400)
        messages.error(request, " ".join(exc.messages))
        return redirect(_next_url(request, reverse("contacts:detail", kwargs={"pk": reminder.contact_id})))
    return _after_action(request, reminder.contact, message)


@require_POST
@works_with_reminders
@in_user_timezone
def reminder_complete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda reminder: reminder_services.reminder_complete(actor=request.user, reminder=reminder),
        "Reminder done.",
    )


def _snooze_target(request: HttpRequest, form: SnoozeForm) -> Any:
    if form.cleaned_data.get("until"):
        return form.cleaned_data["until"]
    return reminder_services.snooze_until(form.cleaned_data["preset"], zone=_zone(request))


@require_POST
@works_with_reminders
@in_user_timezone
def reminder_snooze(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose when to be reminded again.", status=400, content_type="text/plain")
    until = _snooze_target(request, form)
    return _act(
        request,
        pk,
        lambda reminder: reminder_services.reminder_snooze(actor=request.user, reminder=reminder, until=until),
        "Reminder snoozed.",
    )


@require_POST
@works_with_reminders
@in_user_timezone
def reminder_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda reminder: reminder_services.reminder_cancel(actor=request.user, reminder=reminder),
        "Reminder cancelled.",
    )


@require_POST
@works_with_reminders
def cadence_set(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = contact_get(user=request.user, pk=pk)
    form = CadenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a number of days between 1 and 3650, or leave it empty.")
    else:
        reminder_services.contact_cadence_set(
            actor=request.user, contact=contact, cadence_days=form.cleaned_data["cadence_days"]
        )
        return _after_action(request, contact, "Keep-in-touch cadence saved.")
    return redirect(reverse("contacts:detail", kwargs={"pk": contact.pk}) + "#reminders")


# --- My reminders ------------------------------------------------------------------------------


@require_GET
@works_with_reminders
@in_user_timezone
def reminders(request: HttpRequest) -> HttpResponse:
    """The user's reminders; a manager may list a member of their teams' (``?assignee=<id>``)."""
    people = reminder_selectors.reminder_assignees(request.user)
    assignee: Any = request.user
    if request.GET.get("assignee"):
        assignee = next((person for person in people if str(person.pk) == request.GET["assignee"]), None)
        if assignee is None:
            raise Http404("No such person in your teams.")
    sections = reminder_selectors.my_reminders(user=request.user, zone=_zone(request), assignee=assignee)
    feed = calendar.calendar_feed_of(request.user)
    context = {
        "assignee": assignee,
        "people": people if len(people) > 1 else [],
        "sections": sections,
        "section_list": [
            ("overdue", "Overdue", sections.overdue),
            ("today", "Later today", sections.today),
            ("upcoming", "Upcoming", sections.upcoming),
        ],
        "snooze_presets": reminder_services.SNOOZE_PRESETS,
        "feed_url": calendar.calendar_feed_url(feed) if feed else "",
    }
    return render(request, "contacts/reminders.html", context)


@require_POST
@works_with_reminders
@in_user_timezone
def reminder_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkReminderForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect("contacts:reminders")
    chosen = reminder_selectors.reminders_for_ids(user=request.user, ids=form.cleaned_data["ids"])
    if form.cleaned_data["action"] == "complete":
        count = reminder_services.reminders_complete_many(actor=request.user, reminders=chosen)
        messages.success(request, f"{count} reminder{'s' if count != 1 else ''} done.")
    else:
        until = _snooze_target(request, form)
        try:
            count = reminder_services.reminders_snooze_many(actor=request.user, reminders=chosen, until=until)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("contacts:reminders")
        messages.success(request, f"{count} reminder{'s' if count != 1 else ''} snoozed.")
    return redirect("contacts:reminders")


# --- the calendar feed ------------------------------------------------------------------------


@require_POST
@works_with_reminders
def calendar_rotate(request: HttpRequest) -> HttpResponse:
    calendar.calendar_feed_rotate(actor=request.user)
    messages.success(request, "New calendar link made; the old one no longer works.")
    return redirect(reverse("contacts:reminders") + "#calendar")


@require_GET
def calendar_feed(request: HttpRequest, feed_id: int, token: str) -> HttpResponse:
    """Public: the URL's secret token is the permission (calendar apps cannot sign in)."""
    feed = calendar.calendar_feed_get(feed_id=feed_id, token=token)
    if feed is None or not roles.has_role(feed.user, roles.Role.SALES, roles.Role.MANAGER):
        raise Http404("No such calendar.")
    response = HttpResponse(calendar.calendar_ics(user=feed.user), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- notifications ------------------------------------------------------------------------------


@require_GET
@works_with_reminders
@in_user_timezone
def notifications(request: HttpRequest) -> HttpResponse:
    preference = reminder_selectors.notification_preference(request.user)
    form = NotificationPreferenceForm(
        initial={
            "email_on_due": preference.email_on_due,
            "digest_enabled": preference.digest_enabled,
            "digest_hour": preference.digest_hour,
        }
    )
    items = reminder_selectors.notification_list(user=request.user)
    reminder_selectors.label_contacts(item.reminder for item in items if item.reminder)
    context = {
        "items": items,
        "unread": sum(1 for item in items if item.read_at is None),
        "form": form,
        "tz_name": timezone.get_current_timezone_name(),
    }
    return render(request, "contacts/notifications.html", context)


@require_POST
@works_with_reminders
def notifications_read(request: HttpRequest) -> HttpResponse:
    notification_services.notifications_mark_read(actor=request.user)
    return redirect("contacts:notifications")


@require_POST
@works_with_reminders
def notification_preferences(request: HttpRequest) -> HttpResponse:
    form = NotificationPreferenceForm(request.POST)
    if form.is_valid():
        notification_services.notification_preference_set(actor=request.user, **form.cleaned_data)
        messages.success(request, "Notification settings saved.")
    else:
        messages.error(request, "Choose an hour of the day for the digest.")
    return redirect("contacts:notifications")


# --- the team dashboard -------------------------------------------------------------------------


@require_GET
@manager_only
@in_user_timezone
def team_dashboard(request: HttpRequest) -> HttpResponse:
    dashboard = reminder_selectors.team_dashboard(user=request.user)
    context = {
        "dashboard": dashboard,
        "chart": overdue_chart(dashboard),
        "settings_forms": [
            (team, TeamSettingsForm(initial={"awaiting_reply_days": dashboard.settings[team.pk].awaiting_reply_days}))
            for team in dashboard.teams
        ],
    }
    return render(request, "contacts/team_dashboard.html", context)


@require_POST
@manager_only
def team_settings(request: HttpRequest, team_id: int) -> HttpResponse:
    team = next((team for team in reminder_selectors.dashboard_teams(request.user) if team.pk == team_id), None)
    if team is None:
        raise Http404("No such team.")
    form = TeamSettingsForm(request.POST)
    if form.is_valid():
        reminder_services.team_settings_set(actor=request.user, team=team, **form.cleaned_data)
        messages.success(request, f"Settings of {team} saved.")
    else:
        messages.error(request, "Give a number of days between 1 and 60.")
    return redirect("contacts:team_dashboard")
