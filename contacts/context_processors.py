"""Template context for every page: the reminders bell in the header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property

from contacts.selectors_reminders import due_count, works_with_reminders


class ReminderBell:
    """The header's bell. ``count`` (due and overdue reminders of the user) is one indexed
    query (``reminder_pending_idx``), run only when a template shows it (not on admin pages)."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def count(self) -> int:
        return due_count(self.user)

    @cached_property
    def url(self) -> str:
        return reverse("contacts:reminders")


def reminder_bell(request: HttpRequest) -> dict[str, Any]:
    """``reminder_bell`` for sales and managers (and admins); None for anyone else."""
    return {"reminder_bell": ReminderBell(request.user) if works_with_reminders(request.user) else None}
