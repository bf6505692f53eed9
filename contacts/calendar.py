"""Per-user secret iCalendar feeds of open reminders.

The URL carries the feed's id and a random token; the token is compared in constant time.
Anyone holding the URL can read the feed (that is how calendar apps subscribe), so it
lists only who to follow up with and when, with a link back, never the reminders' notes.
Rotating the token makes every old URL stop working.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event

from contacts.models import CalendarFeed
from contacts.selectors_reminders import PENDING, contact_names, visible_reminders
from contacts.services.notifications import site_link

FEED_LIMIT = 500
EVENT_LENGTH = timedelta(minutes=15)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def calendar_feed_of(user: Any) -> CalendarFeed | None:
    """The user's feed, if they made one."""
    return CalendarFeed.objects.filter(user=user).first()


@transaction.atomic
def calendar_feed_rotate(*, actor: Any) -> CalendarFeed:
    """Give ``actor`` a new secret feed URL (creating the feed the first time)."""
    feed, created = CalendarFeed.objects.get_or_create(user=actor, defaults={"token": _new_token()})
    if not created:
        feed.token = _new_token()
        feed.rotated_at = timezone.now()
        feed.save(update_fields=["token", "rotated_at"])
    return feed


def calendar_feed_url(feed: CalendarFeed) -> str:
    return site_link("contacts:calendar_feed", feed_id=feed.pk, token=feed.token)


def calendar_feed_get(*, feed_id: int, token: str) -> CalendarFeed | None:
    """The feed ``feed_id`` if ``token`` is its current token (constant-time), else None."""
    feed = CalendarFeed.objects.select_related("user").filter(pk=feed_id).first()
    if feed is None or not hmac.compare_digest(feed.token.encode(), token.encode()):
        return None
    if not feed.user.is_active:
        return None
    return feed


def calendar_ics(*, user: Any, now: datetime | None = None) -> bytes:
    """The user's open reminders as an iCalendar document: one 15-minute VEVENT each."""
    now = now or timezone.now()
    reminders = list(
        visible_reminders(user)
        .filter(PENDING, assignee=user)
        .select_related("contact")
        .order_by("due_at", "id")[:FEED_LIMIT]
    )
    names = contact_names(reminder.contact for reminder in reminders)
    calendar = Calendar()
    calendar.add("prodid", "-//Social CRM//Reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Social CRM reminders")
    for reminder in reminders:
        link = site_link("contacts:detail", pk=reminder.contact_id)
        event = Event()
        event.add("uid", f"reminder-{reminder.pk}@socialcrm")
        event.add("dtstamp", now)
        event.add("dtstart", reminder.due_at)
        event.add("dtend", reminder.due_at + EVENT_LENGTH)
        event.add("summary", f"{reminder.get_kind_display()}: {names[reminder.contact_id]}")
        event.add("description", f"Open in Social CRM: {link}")
        event.add("url", link)
        calendar.add_component(event)
    return calendar.to_ical()
