"""Forms of the contact import: the upload and the generic CSV's column mapping (parse only)."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from contacts.importing.parse import TARGETS


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="A CSV (LinkedIn, Google Contacts, Outlook or any spreadsheet) or a vCard (.vcf) file.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.vcf,.txt,text/csv,text/vcard"}),
    )
    team = forms.TypedChoiceField(label="Into the team", coerce=int)

    def __init__(self, *args: Any, teams: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.teams = {team.pk: team for team in teams}
        team_field = cast(forms.TypedChoiceField, self.fields["team"])
        team_field.choices = [(team.pk, team.name) for team in teams]
        if len(teams) == 1:
            self.fields["team"].initial = teams[0].pk

    def clean_team(self) -> Any:
        return self.teams[self.cleaned_data["team"]]


class ImportMappingForm(forms.Form):
    """One choice per column of the file: which field it holds (or ignore it)."""

    def __init__(self, *args: Any, headers: list[str], initial_mapping: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}",
                choices=list(TARGETS.items()),
                required=False,
                initial=initial_mapping.get(header, ""),
            )

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(f"column_{index}", "") for index, header in enumerate(self.headers)}
