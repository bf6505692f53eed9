"""Template context for every page: the reminders bell in the header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property

from contacts.selectors_reminders import due_count, due_count_subquery, works_with_reminders

# A page may fold the bell's count into its main query (``bell_prefetch``) and hand it over
# on the request (``bell_prefetched``), saving the bell its query.
BELL_ANNOTATION = "reminder_bell_due_count"
_PREFETCHED = "_reminder_bell_count"


class ReminderBell:
    """The header's bell. ``count`` (due and overdue reminders of the user) is one indexed
    query (``reminder_pending_idx``), run only when a template shows it (not on admin pages)
    and the page did not fetch it already."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def count(self) -> int:
        prefetched = getattr(self.request, _PREFETCHED, None)
        return prefetched if prefetched is not None else due_count(self.request.user)

    @cached_property
    def url(self) -> str:
        return reverse("contacts:reminders")


def bell_prefetch(request: HttpRequest) -> dict[str, Any]:
    """The bell's count as an annotation for the page's main query (none when there is no bell)."""
    return {BELL_ANNOTATION: due_count_subquery(request.user)} if works_with_reminders(request.user) else {}


def bell_prefetched(request: HttpRequest, row: Any) -> None:
    """Hand the count ``bell_prefetch`` added to ``row`` over to the bell."""
    if BELL_ANNOTATION in row.__dict__:
        setattr(request, _PREFETCHED, row.__dict__[BELL_ANNOTATION] or 0)


def reminder_bell(request: HttpRequest) -> dict[str, Any]:
    """``reminder_bell`` for sales and managers (and admins); None for anyone else."""
    return {"reminder_bell": ReminderBell(request) if works_with_reminders(request.user) else None}
