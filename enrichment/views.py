"""The enrichment panel on the contact page: show, refresh, accept and reject found profiles."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from contacts.models import Contact
from contacts.selectors import contact_get
from enrichment import selectors, services, tasks
from enrichment.models import REVIEWABLE_FIELDS
from socialcrm import roles
from socialcrm.outbox import enqueue

# A Jinja2 template (templates/jinja2/): its output is marked safe where a page shows it.
PANEL_TEMPLATE = "enrichment/partials/panel.html"
# Like editing a contact: accepting copies values onto it.
can_review = roles.role_required(roles.Role.SALES, roles.Role.MANAGER)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _panel_context(request: HttpRequest, contact: Contact, notice: str = "") -> dict[str, Any]:
    return {
        "contact": contact,
        "panel": selectors.panel_data(contact),
        "pending": selectors.lookup_pending(contact.pk),
        "may_review": roles.has_role(request.user, roles.Role.SALES, roles.Role.MANAGER),
        "notice": notice,
    }


def profiles_panel(request: HttpRequest, contact: Contact) -> SafeString:
    """The contact page's "Public profiles" panel (registered in EnrichmentConfig.ready)."""
    html = render_to_string(PANEL_TEMPLATE, _panel_context(request, contact), request=request)
    return mark_safe(html)  # noqa: S308 - an autoescaping engine's output


def _panel_response(request: HtmxHttpRequest, contact: Contact, notice: str) -> HttpResponse:
    """The fresh panel for htmx; without JavaScript, back to the contact page with a message."""
    if request.htmx:
        return HttpResponse(render_to_string(PANEL_TEMPLATE, _panel_context(request, contact, notice), request=request))
    messages.success(request, notice)
    return redirect("contacts:detail", pk=contact.pk)


@require_GET
@roles.staff_required
def panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel alone (htmx polls it while a lookup is running)."""
    contact = contact_get(user=request.user, pk=pk)
    return HttpResponse(profiles_panel(request, contact))


@require_POST
@can_review
def refresh(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """ "Refresh now": queue a lookup that ignores cached answers (the gate is still asked when it runs)."""
    contact = contact_get(user=request.user, pk=pk)
    services.lookup_started(contact_id=contact.pk)
    enqueue(tasks.ENRICH_CONTACT, contact.pk, True)
    return _panel_response(request, contact, "Looking up public profiles.")


def _field(request: HttpRequest) -> str | None:
    """The value to decide on; None for the whole profile. An unknown name is a bad request."""
    value = request.POST.get("field", "")
    if value and value not in REVIEWABLE_FIELDS:
        raise SuspiciousOperation(f"Unknown profile field {value!r}.")
    return value or None


@require_POST
@can_review
def profile_accept(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Accept a profile, or one of its values (``field``): copies it into the contact's empty fields."""
    profile = selectors.profile_get(user=request.user, pk=pk)
    filled = services.profile_accept(actor=request.user, profile=profile, field=_field(request))
    notice = "Accepted." + (f" Filled in the contact's {', '.join(filled)}." if filled else "")
    return _panel_response(request, profile.contact, notice)


@require_POST
@can_review
def profile_reject(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Reject a profile ("not this person") or one value; what is rejected is deleted."""
    profile = selectors.profile_get(user=request.user, pk=pk)
    services.profile_reject(actor=request.user, profile=profile, field=_field(request))
    return _panel_response(request, profile.contact, "Rejected and removed.")
