"""The contact and organization lists, saved views, and creating, editing and archiving."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from contacts import selectors
from contacts.filters import ORGANIZATION_LIST_KEYS, list_query
from contacts.forms import ContactForm, OrganizationForm, SavedViewForm
from contacts.models import Contact, Organization
from contacts.registry import shown_contacts
from contacts.search import search_is_ranked
from contacts.services import contacts as services
from socialcrm import roles

# People who work with contacts change them; the DPO reads (rectification is a privacy request).
can_edit = roles.role_required(roles.Role.SALES, roles.Role.MANAGER)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _can_edit(user: Any) -> bool:
    return roles.has_role(user, roles.Role.SALES, roles.Role.MANAGER)


# (label, sort name, direction of the first click): dates start with the newest.
CONTACT_COLUMNS = (
    ("Name", "name", ""),
    ("Organization", "organization", ""),
    ("Last contacted", "last_contacted", "-"),
    ("Created", "created", "-"),
)


def _render_list(request: HtmxHttpRequest, page: str, fragment: str, context: dict[str, Any]) -> HttpResponse:
    """The whole page, or only the results fragment for an htmx request.

    The page shows the fragment rendered on its own as ``results`` (it may be a Jinja2
    template, which the template language cannot include).
    """
    results = mark_safe(render_to_string(fragment, context, request))  # noqa: S308 - an autoescaping engine's output
    if request.htmx and not request.htmx.history_restore_request:
        response = HttpResponse(results)
    else:
        response = render(request, page, {**context, "results": results})
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _sort_columns(data: QueryDict, sort: str) -> list[dict[str, str]]:
    columns = []
    for label, name, first_direction in CONTACT_COLUMNS:
        if sort == name:
            state, next_sort = "ascending", f"-{name}"
        elif sort == f"-{name}":
            state, next_sort = "descending", name
        else:
            state, next_sort = "none", f"{first_direction}{name}"
        columns.append({"label": label, "state": state, "query": list_query(data, sort=next_sort)})
    return columns


@require_GET
@roles.staff_required
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    filterset = selectors.contact_filter(user=request.user, data=request.GET, for_page=True)
    # A ranked search sorts by relevance unless a column is chosen (short terms are not ranked).
    searching = filterset.form.is_valid() and search_is_ranked(filterset.form.cleaned_data.get("q", ""))
    sort = selectors.contact_list_sort(request.GET.get("sort"), searching=searching)
    page = selectors.contact_list_page(contacts=filterset.qs, sort=sort, after=request.GET.get("after"))
    query = list_query(request.GET)
    context = {
        "filter": filterset,
        "page": page,
        # The names people chose, what they withhold and their badges: two queries per page.
        "rows": shown_contacts(page.rows),
        "query": query,
        "columns": _sort_columns(request.GET, sort),
        "next_query": list_query(request.GET, after=page.next_cursor) if page.next_cursor else "",
        "first_query": query,
        "filtered": any(key != "sort" for key in QueryDict(query)),
        "save_form": SavedViewForm(initial={"query": query}),
        "saved_views": selectors.saved_views(user=request.user),
        "explicit_sort": sort if request.GET.get("sort") == sort else "",
        # Listed by relevance, a search shows its best LIST_COUNT_CAP + 1 matches only.
        "relevance_bounded": sort == selectors.RELEVANCE and page.count_capped,
        "can_edit": _can_edit(request.user),
    }
    return _render_list(request, "contacts/list.html", "contacts/partials/contact_rows.html", context)


def _contact_form(request: HttpRequest, contact: Contact | None = None) -> ContactForm:
    # Archived organizations leave the picker, except the one the contact already has.
    current = Q(pk=contact.organization_id) if contact is not None and contact.organization_id else Q()
    organizations = selectors.visible_organizations(request.user).filter(Q(archived=False) | current)
    return ContactForm(
        request.POST or None,
        teams=selectors.visible_teams(request.user) if contact is None else None,
        organizations=organizations.order_by("name", "id"),
        owners=selectors.assignable_users(user=request.user),
        contact=contact,
    )


def _save_contact(request: HttpRequest, form: ContactForm, save: Callable[..., Contact]) -> Contact | None:
    """Run ``save`` with the form's data; on a validation error put it on the form and return None."""
    try:
        return save(actor=request.user, **form.cleaned_data)
    except services.DuplicateContactError as exc:
        form.add_error("emails", exc.messages[0])
        form.duplicate = exc.existing  # type: ignore[attr-defined]
    except ValidationError as exc:
        form.add_error(None, exc)
    return None


@require_http_methods(["GET", "POST"])
@can_edit
def contact_create(request: HttpRequest) -> HttpResponse:
    form = _contact_form(request)
    if request.method == "POST" and form.is_valid():
        contact = _save_contact(request, form, services.contact_create)
        if contact is not None:
            messages.success(request, f"{contact.display_name} was added.")
            return redirect("contacts:detail", pk=contact.pk)
    status = 422 if form.is_bound else 200
    return render(request, "contacts/contact_form.html", {"form": form, "contact": None}, status=status)


@require_http_methods(["GET", "POST"])
@can_edit
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, pk=pk)
    form = _contact_form(request, contact)
    if request.method == "POST" and form.is_valid():

        def update(**data: Any) -> Contact:
            return services.contact_update(contact=contact, **data)

        if _save_contact(request, form, update) is not None:
            messages.success(request, "Changes saved.")
            return redirect("contacts:detail", pk=contact.pk)
    status = 422 if form.is_bound else 200
    return render(request, "contacts/contact_form.html", {"form": form, "contact": contact}, status=status)


def _archive_view(
    request: HttpRequest,
    *,
    obj: Contact | Organization,
    archive: bool,
    act: Callable[[], Any],
    done_url: str,
    noun: str,
    consequence: str,
) -> HttpResponse:
    """GET asks for confirmation; POST archives (or restores) and goes back to the object."""
    if request.method == "POST":
        act()
        messages.success(request, f"{obj} was {'archived' if archive else 'restored'}.")
        return redirect(done_url)
    context = {"object": obj, "archive": archive, "noun": noun, "consequence": consequence, "cancel_url": done_url}
    return render(request, "contacts/archive_confirm.html", context)


@require_http_methods(["GET", "POST"])
@can_edit
def contact_archive(request: HttpRequest, pk: int, archive: bool = True) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, pk=pk)
    service = services.contact_archive if archive else services.contact_unarchive
    return _archive_view(
        request,
        obj=contact,
        archive=archive,
        act=lambda: service(actor=request.user, contact=contact),
        done_url=reverse("contacts:detail", kwargs={"pk": contact.pk}),
        noun="contact",
        consequence=(
            "Archived contacts leave the active list; their details and timeline are kept."
            if archive
            else "The contact returns to the active list."
        ),
    )


# --- Saved views -------------------------------------------------------------------------


@require_POST
@roles.staff_required
def saved_view_create(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the view a name (up to 80 characters) to save it.")
        return redirect(reverse("contacts:list") + "?" + list_query(QueryDict(request.POST.get("query", ""))))
    query = list_query(QueryDict(form.cleaned_data["query"]))
    view = services.saved_view_save(actor=request.user, name=form.cleaned_data["name"], query=query)
    messages.success(request, f"Saved the view “{view.name}”.")
    return redirect(reverse("contacts:list") + ("?" + query if query else ""))


@require_POST
@roles.staff_required
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = selectors.saved_view_get(user=request.user, pk=pk)
    services.saved_view_delete(actor=request.user, view=view)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect("contacts:list")


# --- Organizations -----------------------------------------------------------------------


@require_GET
@roles.staff_required
def organization_list(request: HtmxHttpRequest) -> HttpResponse:
    filterset = selectors.organization_filter(user=request.user, data=request.GET)
    after = request.GET.get("after")
    page = selectors.organization_list_page(user=request.user, organizations=filterset.qs, after=after)
    query = list_query(request.GET, keys=ORGANIZATION_LIST_KEYS)
    next_query = list_query(request.GET, keys=ORGANIZATION_LIST_KEYS, after=page.next_cursor or "")
    context = {
        "filter": filterset,
        "page": page,
        "query": query,
        "next_query": next_query if page.next_cursor else "",
        "can_edit": _can_edit(request.user),
    }
    return _render_list(request, "contacts/organization_list.html", "contacts/partials/organization_rows.html", context)


def _organization_form(request: HttpRequest, organization: Organization | None = None) -> OrganizationForm:
    initial = None
    if organization is not None:
        initial = {name: getattr(organization, name) for name in ("name", "domain", "website", "notes")}
    return OrganizationForm(
        request.POST or None,
        initial=initial,
        teams=selectors.visible_teams(request.user) if organization is None else None,
        editing=organization is not None,
    )


@require_http_methods(["GET", "POST"])
@can_edit
def organization_create(request: HttpRequest) -> HttpResponse:
    form = _organization_form(request)
    if request.method == "POST" and form.is_valid():
        organization = services.organization_create(actor=request.user, **form.cleaned_data)
        messages.success(request, f"{organization.name} was added.")
        return redirect("contacts:organization_detail", pk=organization.pk)
    status = 422 if form.is_bound else 200
    context = {"form": form, "organization": None}
    return render(request, "contacts/organization_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@can_edit
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get(user=request.user, pk=pk)
    form = _organization_form(request, organization)
    if request.method == "POST" and form.is_valid():
        services.organization_update(actor=request.user, organization=organization, **form.cleaned_data)
        messages.success(request, "Changes saved.")
        return redirect("contacts:organization_detail", pk=organization.pk)
    status = 422 if form.is_bound else 200
    context = {"form": form, "organization": organization}
    return render(request, "contacts/organization_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@can_edit
def organization_archive(request: HttpRequest, pk: int, archive: bool = True) -> HttpResponse:
    organization = selectors.organization_get(user=request.user, pk=pk)
    service = services.organization_archive if archive else services.organization_unarchive
    return _archive_view(
        request,
        obj=organization,
        archive=archive,
        act=lambda: service(actor=request.user, organization=organization),
        done_url=reverse("contacts:organization_detail", kwargs={"pk": organization.pk}),
        noun="organization",
        consequence=(
            "Archived organizations leave the list and the pickers; their people keep them."
            if archive
            else "The organization returns to the list and the pickers."
        ),
    )
