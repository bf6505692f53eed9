"""The contacts app's section of the home page: today's reminders and recent activity."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from contacts.selectors_reminders import label_contacts, my_reminders, recent_activity
from contacts.services.reminders import user_zone


def todays_reminders_section(request: Any) -> SafeString:
    """Overdue and today's reminders, and the user's latest timeline entries."""
    user = request.user
    zone = user_zone(user)
    with timezone.override(zone):
        sections = my_reminders(user=user, zone=zone)
        recent = recent_activity(user=user)
        label_contacts(recent)
        context = {"overdue": sections.overdue, "today": sections.today, "recent": recent}
        return SafeString(render_to_string("contacts/partials/home_reminders.html", context, request=request))
