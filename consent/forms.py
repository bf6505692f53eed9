"""Input of the consent app's pages (parse and validate only)."""

from __future__ import annotations

from typing import Any

from django import forms

from consent.gate import active_purposes
from consent.models import Analytics, BusinessFunction, ConsentEvent, LawfulBasis, Network, PrivacyPreference, Purpose
from contacts.registry import WITHHOLDABLE_ATTRIBUTES


def _active_purpose_choices() -> list[tuple[str, str]]:
    # From the gate's in-process purpose cache: rendering the form (on every contact page)
    # costs no query; clean_purpose reads the chosen one.
    return [("", "Choose a purpose"), *((str(info.id), info.name) for info in active_purposes())]


class ConsentRecordForm(forms.Form):
    """Staff record what a person said. Nothing is pre-selected: every answer is chosen,
    and withdrawing takes exactly the same steps as granting."""

    purpose = forms.ChoiceField(choices=_active_purpose_choices)
    action = forms.ChoiceField(choices=ConsentEvent.Action.choices, widget=forms.RadioSelect, label="What happened")
    source = forms.ChoiceField(
        choices=[("", "Choose how"), *ConsentEvent.Source.choices], label="How the person told us"
    )
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="What the person said or did, and where it is kept (e.g. “email of 3 May, in the timeline”).",
    )
    notice_version = forms.CharField(
        max_length=64, required=False, label="Privacy notice version shown", help_text="e.g. 2026-01"
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_purpose(self) -> Purpose:
        purpose = Purpose.objects.filter(pk=self.cleaned_data["purpose"], active=True).first()
        if purpose is None:
            raise forms.ValidationError("This purpose is no longer in use; choose another.")
        return purpose


class PrivacyPreferenceForm(forms.Form):
    """The person's privacy controls, each phrased so that unticked is the default.

    Nothing is ticked until the person asked for it: every box records something they
    said (a refusal, a pseudonym, a withheld attribute). Business functions and analytics
    are asked as refusals and stored as what remains allowed (the model's
    ``business_functions`` / ``allowed_analytics``): a *yes* to a consent-based purpose is
    a grant in the ledger, with its evidence, never a box ticked for them here.
    """

    use_pseudonym = forms.BooleanField(
        required=False, label="Identify them by a pseudonym instead of their name", help_text="Give it below."
    )
    pseudonym = forms.CharField(max_length=150, required=False)
    withheld_attributes = forms.MultipleChoiceField(
        choices=list(WITHHOLDABLE_ATTRIBUTES.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Withhold from staff views and exports",
    )
    unlinked_networks = forms.MultipleChoiceField(
        choices=Network.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Networks not to be linked",
    )
    refused_business_functions = forms.MultipleChoiceField(
        choices=BusinessFunction.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Parts of the business that must NOT engage them",
    )
    refused_analytics = forms.MultipleChoiceField(
        choices=Analytics.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Analytics that must NOT be applied to them",
    )
    do_not_contact = forms.BooleanField(required=False, label="Do not contact")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("use_pseudonym") and not cleaned.get("pseudonym"):
            self.add_error("pseudonym", "Give the pseudonym the person wants to be shown by.")
        # Into the service's terms: who identifies them how, and what stays allowed.
        use_pseudonym = cleaned.pop("use_pseudonym", False)
        cleaned["identify_by"] = (
            PrivacyPreference.IdentifyBy.PSEUDONYM if use_pseudonym else PrivacyPreference.IdentifyBy.NAME
        )
        refused_functions = set(cleaned.pop("refused_business_functions", []))
        cleaned["business_functions"] = [value for value in BusinessFunction.values if value not in refused_functions]
        refused_analytics = set(cleaned.pop("refused_analytics", []))
        cleaned["allowed_analytics"] = [value for value in Analytics.values if value not in refused_analytics]
        return cleaned

    @staticmethod
    def initial_for(preference: PrivacyPreference) -> dict[str, Any]:
        return {
            "use_pseudonym": preference.identify_by == PrivacyPreference.IdentifyBy.PSEUDONYM,
            "pseudonym": preference.pseudonym,
            "withheld_attributes": preference.withheld_attributes,
            "unlinked_networks": preference.unlinked_networks,
            "refused_business_functions": [
                value for value in BusinessFunction.values if value not in preference.business_functions
            ],
            "refused_analytics": [value for value in Analytics.values if value not in preference.allowed_analytics],
            "do_not_contact": preference.do_not_contact,
        }


class PurposeForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown to people.")
    lawful_basis = forms.ChoiceField(choices=LawfulBasis.choices, label="Default lawful basis")
    retention_days = forms.IntegerField(min_value=1, max_value=36500, label="Retention (days)")
    data_categories = forms.CharField(
        max_length=500, required=False, help_text="Comma-separated, e.g. identity, email address."
    )
    business_function = forms.ChoiceField(choices=[("", "None"), *BusinessFunction.choices], required=False)
    analytics = forms.ChoiceField(choices=[("", "None"), *Analytics.choices], required=False)
    is_outreach = forms.BooleanField(required=False, label="Contacts the person (outreach)")
    is_direct_marketing = forms.BooleanField(required=False, label="Direct marketing")
    is_profiling = forms.BooleanField(required=False, label="Profiling")
    lia_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Legitimate-interests assessment",
        help_text="The balancing test's conclusion. Saving a new text records today as its date.",
    )
    active = forms.BooleanField(required=False, label="In use")

    def clean_data_categories(self) -> list[str]:
        raw: str = self.cleaned_data["data_categories"]
        return [part.strip() for part in raw.split(",") if part.strip()]

    @staticmethod
    def initial_for(purpose: Purpose) -> dict[str, Any]:
        fields = [name for name in PurposeForm.base_fields if name != "data_categories"]
        return {
            **{name: getattr(purpose, name) for name in fields},
            "data_categories": ", ".join(purpose.data_categories),
        }
