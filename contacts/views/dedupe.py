"""The duplicates page and the merge screen; merged contacts' old ids redirect to the survivor."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from contacts.dedupe import duplicate_suggestions, merged_contact_target
from contacts.forms_merge import MergeForm
from contacts.selectors import contact_get
from contacts.services.merge import MergeError, contact_merge
from socialcrm import roles

# Merging edits (and deletes) contacts: the people who edit them.
can_merge = roles.role_required(roles.Role.SALES, roles.Role.MANAGER)


def edits_contacts(user: Any) -> bool:
    """Who sees the Import and Duplicates entries of the navigation."""
    return roles.has_role(user, roles.Role.SALES, roles.Role.MANAGER)


def follows_merged_contacts(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A contact view that, for the id of a merged contact, redirects to the contact it was merged into."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, pk: int, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, pk=pk, **kwargs)
        except Http404:
            target = merged_contact_target(user=request.user, pk=pk)
            if target is None or request.resolver_match is None:
                raise
            return redirect(request.resolver_match.view_name, *args, pk=target, **kwargs)

    return wrapped


@require_GET
@can_merge
def duplicates(request: HttpRequest) -> HttpResponse:
    return render(request, "contacts/duplicates.html", {"suggestions": duplicate_suggestions(user=request.user)})


@require_http_methods(["GET", "POST"])
@can_merge
def merge(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    """Merge contact ``other`` into ``pk``, picking each differing field's value side by side."""
    survivor = contact_get(user=request.user, pk=pk)
    merged = contact_get(user=request.user, pk=other)
    form = MergeForm(request.POST or None, survivor=survivor, merged=merged)
    if request.method == "POST" and form.is_valid():
        try:
            contact = contact_merge(actor=request.user, survivor=survivor, merged=merged, choices=form.choices())
        except MergeError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Merged into {contact.display_name}.")
            return redirect("contacts:detail", pk=contact.pk)
    status = 422 if form.is_bound else 200
    context = {"form": form, "survivor": survivor, "merged": merged}
    return render(request, "contacts/merge.html", context, status=status)
