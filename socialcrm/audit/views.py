"""The DPO's audit viewer."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from socialcrm import roles
from socialcrm.audit.registry import Action
from socialcrm.audit.selectors import audit_event_page
from socialcrm.audit.services import audit_record
from socialcrm.pagination import TimeCursor


@require_GET
@roles.role_required(roles.Role.DPO)
def events(request: HttpRequest) -> HttpResponse:
    """Filterable, keyset-paginated events; htmx "older events" requests get the rows only.

    Reading the trail is itself recorded (one event per page view), so access to the
    record of who touched personal data is accountable too.
    """
    before = TimeCursor.decode(request.GET.get("before"))
    filters = request.GET.copy()
    filters.pop("before", None)
    page = audit_event_page(user=request.user, filters=filters, before=before)
    audit_record(actor=request.user, action=Action.AUDIT_VIEWED, request=request)
    filter_params = [(key, value) for key, value in filters.items() if value]
    more_query = urlencode([*filter_params, ("before", page.next_cursor.encode())]) if page.next_cursor else ""
    context = {
        "filter": page.filterset,
        "form": page.filterset.form,
        "events": page.events,
        "next_cursor": page.next_cursor,
        "more_query": more_query,
        "continued": before is not None,
    }
    template = "audit/partials/event_rows.html" if request.htmx else "audit/events.html"  # type: ignore[attr-defined]
    return render(request, template, context)
