"""Input parsing for reminders: forms only parse and validate; contacts/services/reminders.py writes.

Date-times are read in the signed-in user's time zone (the views activate it), so a
datetime-local "09:00" is 09:00 where the user is; a time that does not exist or is
ambiguous there (a DST change) is a validation error, not a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from contacts.forms import DATETIME_LOCAL_FORMAT
from contacts.models import Reminder
from contacts.services.reminders import SNOOZE_PRESETS
from socialcrm.models import User


def _datetime_field(label: str, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
    )


class ReminderForm(forms.Form):
    """A new reminder. ``assignees``: who the user may pick (no picker when that is just them);
    without a choice it is for ``default_assignee`` (the user)."""

    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label="For", empty_label=None, required=False)
    due_at = _datetime_field("Due")
    note = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    recurrence = forms.ChoiceField(choices=Reminder.Recurrence.choices, required=False, label="Repeats")
    interval_days = forms.IntegerField(
        min_value=1, max_value=365, required=False, label="Every N days", help_text="For “Every N days”."
    )

    def __init__(self, *args: Any, assignees: Sequence[User], default_assignee: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.assignees = list(assignees)
        self.default_assignee = default_assignee
        if len(self.assignees) > 1:
            field: Any = self.fields["assignee"]
            field.queryset = User.objects.filter(pk__in=[user.pk for user in self.assignees])
            field.choices = [(user.pk, str(user)) for user in self.assignees]
        else:
            del self.fields["assignee"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("assignee"):
            cleaned["assignee"] = self.default_assignee
        if cleaned.get("recurrence") == Reminder.Recurrence.EVERY_N_DAYS and not cleaned.get("interval_days"):
            self.add_error("interval_days", "Say every how many days.")
        return cleaned


class SnoozeForm(forms.Form):
    """Snooze to a preset ("tomorrow morning") or to a given time."""

    preset = forms.ChoiceField(choices=list(SNOOZE_PRESETS.items()), required=False)
    until = _datetime_field("Until", required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("preset") and not cleaned.get("until"):
            raise forms.ValidationError("Choose when to be reminded again.")
        return cleaned


class BulkReminderForm(SnoozeForm):
    """ "My reminders": complete or snooze the ticked reminders."""

    action = forms.ChoiceField(choices=[("complete", "Mark done"), ("snooze", "Snooze")])
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], error_messages={"required": "Tick some reminders."})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any integer parses; the selector keeps the ones the user may touch.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        ids_field: Any = self.fields["ids"]
        ids_field.choices = [(value, value) for value in raw if str(value).isdigit()]

    def clean(self) -> dict[str, Any]:
        cleaned = forms.Form.clean(self) or {}
        if cleaned.get("action") == "snooze" and not cleaned.get("preset") and not cleaned.get("until"):
            raise forms.ValidationError("Choose when to be reminded again.")
        return cleaned


class CadenceForm(forms.Form):
    cadence_days = forms.IntegerField(
        label="Keep in touch every (days)",
        min_value=1,
        max_value=3650,
        required=False,
        help_text="Empty: no keep-in-touch reminders.",
    )


class NotificationPreferenceForm(forms.Form):
    email_on_due = forms.BooleanField(label="Email me when a reminder falls due", required=False)
    digest_enabled = forms.BooleanField(label="Email me a daily digest", required=False)
    digest_hour = forms.TypedChoiceField(
        label="Digest hour",
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        help_text="In your time zone.",
    )


class TeamSettingsForm(forms.Form):
    awaiting_reply_days = forms.IntegerField(label="Nudge after (days) without a reply", min_value=1, max_value=60)
