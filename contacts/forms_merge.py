"""The merge screen's form: for each field the two contacts differ in, whose value to keep."""

from __future__ import annotations

from typing import Any

from django import forms

from contacts.models import Contact
from contacts.services.merge import MERGE_FIELDS, MERGED, SURVIVOR


def field_display(contact: Contact, name: str) -> str:
    value = getattr(contact, name)
    if value is None or value == "":
        return ""
    return str(value)


class MergeForm(forms.Form):
    def __init__(self, *args: Any, survivor: Contact, merged: Contact, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[str, str, str, str]] = []
        for name, label in MERGE_FIELDS.items():
            mine, theirs = field_display(survivor, name), field_display(merged, name)
            if mine == theirs:
                continue
            self.fields[name] = forms.ChoiceField(
                label=label,
                choices=[(SURVIVOR, mine or "(empty)"), (MERGED, theirs or "(empty)")],
                widget=forms.RadioSelect,
                # Not chosen: the survivor's value.
                required=False,
                # The filled-in value by default.
                initial=MERGED if not mine else SURVIVOR,
            )
            self.rows.append((name, label, mine, theirs))

    def choices(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if value}
