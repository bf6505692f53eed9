"""Input parsing for the contacts app: forms only parse and validate; services write."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from contacts.models import Activity, Contact, ContactMethod, Organization
from contacts.normalize import normalize_domain, normalize_method
from contacts.services.timeline import QUICK_LOG_KINDS
from socialcrm.models import Team, User

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


# --- Contacts and organizations ----------------------------------------------------------


def _choices(form: forms.Form, name: str, queryset: QuerySet[Any]) -> None:
    """Limit the model choice field ``name`` to ``queryset`` (what the user may see)."""
    field = cast(forms.ModelChoiceField, form.fields[name])
    field.queryset = queryset


class PlainSelect(forms.Select):
    """A select rendered without a template per option, so a picker of thousands stays fast."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        selected = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((str(key), " selected" if str(key) in selected else "", label) for key, label in self.choices),
        )
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)


class MethodLinesField(forms.CharField):
    """Contact methods of one kind, one per line; each checked with the kind's normalizer."""

    widget = forms.Textarea(attrs={"rows": 2})

    def __init__(self, kind: str, *, noun: str, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "One per line; the first one is the primary.")
        super().__init__(**kwargs)
        self.kind = kind
        self.noun = noun

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]

    def validate(self, value: Any) -> None:
        errors = []
        for line in value:
            try:
                normalize_method(self.kind, line)
            except forms.ValidationError as exc:
                errors.append(forms.ValidationError(f"“{line}” is not a valid {self.noun}: {' '.join(exc.messages)}"))
        if errors:
            raise forms.ValidationError(errors)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value


class ContactForm(forms.Form):
    """Create (with ``teams``) or edit (with ``contact``) a contact and its methods.

    Pickers only offer what ``user`` may see: the teams given, visible organizations and
    members of the visible teams; the service checks that they belong to the contact's team.
    """

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    display_name = forms.CharField(
        max_length=300, required=False, help_text="How the contact is shown; defaults to first and last name."
    )
    title = forms.CharField(label="Role / title", max_length=200, required=False)
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(), required=False, empty_label="—", widget=PlainSelect
    )
    emails = MethodLinesField(ContactMethod.Kind.EMAIL, noun="email address", label="Email addresses")
    phones = MethodLinesField(ContactMethod.Kind.PHONE, noun="phone number", label="Phone numbers")
    websites = MethodLinesField(ContactMethod.Kind.WEBSITE, noun="website", label="Websites")
    handles = MethodLinesField(
        ContactMethod.Kind.HANDLE,
        noun="handle",
        label="Social handles",
        help_text="One per line, e.g. @ann@mastodon.example.",
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody")
    tags = forms.CharField(max_length=500, required=False, help_text="Separate tags with commas.")
    location = forms.CharField(max_length=200, required=False)
    cadence_days = forms.IntegerField(label="Keep in touch every … days", min_value=1, max_value=3650, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(
        self,
        *args: Any,
        teams: list[Team] | None = None,
        organizations: QuerySet[Organization],
        owners: QuerySet[User],
        contact: Contact | None = None,
        **kwargs: Any,
    ) -> None:
        if contact is not None:
            kwargs.setdefault("initial", self.initial_for(contact))
        super().__init__(*args, **kwargs)
        if contact is None:
            _choices(self, "team", Team.objects.filter(pk__in=[team.pk for team in teams or []]))
            if teams and len(teams) == 1:
                self.fields["team"].initial = teams[0].pk
        else:
            # A contact stays in its team; moving people between teams is not an edit.
            del self.fields["team"]
        _choices(self, "organization", organizations)
        _choices(self, "owner", owners)

    @staticmethod
    def initial_for(contact: Contact) -> dict[str, Any]:
        methods: dict[str, list[str]] = {kind: [] for kind in ContactMethod.Kind.values}
        # Primary first, as the service reads the first line as the primary.
        for method in sorted(contact.methods.all(), key=lambda m: (not m.is_primary, m.pk)):
            methods[method.kind].append(method.value)
        return {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "display_name": contact.display_name,
            "title": contact.title,
            "organization": contact.organization_id,
            "emails": methods[ContactMethod.Kind.EMAIL],
            "phones": methods[ContactMethod.Kind.PHONE],
            "websites": methods[ContactMethod.Kind.WEBSITE],
            "handles": methods[ContactMethod.Kind.HANDLE],
            "owner": contact.owner_id,
            "tags": ", ".join(tag.name for tag in contact.tags.all()),
            "location": contact.location,
            "cadence_days": contact.cadence_days,
            "notes": contact.notes,
        }

    def clean_tags(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["tags"].split(",")]
        return list(dict.fromkeys(name for name in names if name))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        names = (cleaned.get("display_name", ""), cleaned.get("first_name", ""), cleaned.get("last_name", ""))
        if not any(name.strip() for name in names):
            self.add_error("first_name", "Give at least a first name, a last name or a display name.")
        return cleaned


class OrganizationForm(forms.Form):
    """Create (with ``teams``) or edit an organization."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    name = forms.CharField(max_length=200)
    domain = forms.CharField(max_length=253, required=False, help_text="The email and web domain, e.g. example.com.")
    website = forms.URLField(required=False, assume_scheme="https")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, teams: list[Team] | None = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["team"]
        else:
            _choices(self, "team", Team.objects.filter(pk__in=[team.pk for team in teams or []]))
            if teams and len(teams) == 1:
                self.fields["team"].initial = teams[0].pk

    def clean_domain(self) -> str:
        domain: str = self.cleaned_data["domain"].strip()
        return normalize_domain(domain) if domain else ""


class SavedViewForm(forms.Form):
    name = forms.CharField(label="Name this view", max_length=80)
    query = forms.CharField(max_length=2000, required=False, widget=forms.HiddenInput)
