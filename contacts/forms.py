"""Input parsing for the contacts app: forms only parse and validate; services write."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from contacts.models import Activity
from contacts.services.timeline import QUICK_LOG_KINDS

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# Clocks drift; an entry a few minutes "in the future" is someone logging a call just now.
_CLOCK_SKEW = timedelta(minutes=5)
_DIRECTED_KINDS = {Activity.Kind.CALL, Activity.Kind.EMAIL}


class QuickLogForm(forms.Form):
    """Log a call, meeting, note or email by hand; ``kind`` given when editing (it is fixed then).

    Bound and rendered inside the user's time zone: the datetime-local value is read and
    shown in it.
    """

    kind = forms.ChoiceField(choices=[(kind.value, kind.label) for kind in QUICK_LOG_KINDS], initial="note")
    occurred_at = forms.DateTimeField(
        label="When",
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
    )
    direction = forms.ChoiceField(
        choices=[
            ("", "—"),
            (Activity.Direction.OUTBOUND.value, "Outbound: we reached out"),
            (Activity.Direction.INBOUND.value, "Inbound: they reached out"),
        ],
        required=False,
        help_text="For calls and emails.",
    )
    subject = forms.CharField(max_length=500, required=False)
    body = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_kind = kind
        if kind is not None:
            del self.fields["kind"]

    def clean_occurred_at(self) -> Any:
        occurred_at = self.cleaned_data["occurred_at"]
        if occurred_at > timezone.now() + _CLOCK_SKEW:
            raise forms.ValidationError("Log what has happened; use a reminder for what is planned.")
        return occurred_at

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("subject", "").strip() and not cleaned.get("body", "").strip():
            self.add_error("body", "Write a subject or a few words about it.")
        kind = self.fixed_kind or cleaned.get("kind")
        if kind not in _DIRECTED_KINDS:
            # Meetings and notes have no direction; a stale choice from the form is dropped.
            cleaned["direction"] = ""
        return cleaned
