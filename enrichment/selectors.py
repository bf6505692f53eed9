"""Reading enrichment data for staff: the contact panel and single profiles, scoped by visibility."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.timesince import timesince

from contacts.models import Contact
from contacts.registry import contact_privacy
from contacts.selectors import json_datetime, json_rows, model_json_rows, models_from_json, visible_contacts
from enrichment import resilience, services
from enrichment.models import ProviderCheck, ProviderState, SocialProfile
from enrichment.sanitize import safe_url
from socialcrm.stored_queries import RequestNow

NETWORK_LABELS = {
    "gravatar": "Gravatar",
    "github": "GitHub",
    "fediverse": "Fediverse",
    "bluesky": "Bluesky",
    "website": "Website",
    "company": "Company site",
}
PROVIDER_LABELS = {**NETWORK_LABELS, "fediverse": "the fediverse", "website": "the website"}
# (field, label) in the order the panel shows them; links are listed separately.
SHOWN_FIELDS = (("title", "Title"), ("company", "Company"), ("location", "Location"), ("bio", "Bio"))


def profile_get(*, user: Any, pk: int) -> SocialProfile:
    """The profile ``pk`` if ``user`` may see its contact; Http404 otherwise."""
    profile = (
        SocialProfile.objects.select_related("contact", "contact__team")
        .filter(contact__in=visible_contacts(user), pk=pk)
        .first()
    )
    if profile is None:
        raise Http404("No such profile.")
    return profile


def provenance(provider: str, source_url: str, fetched_at: datetime | str) -> str:
    """The hover text of a value: where it came from and how old it is."""
    if isinstance(fetched_at, str):
        fetched_at = datetime.fromisoformat(fetched_at)
    label = NETWORK_LABELS.get(provider, provider)
    source = f" ({source_url})" if source_url else ""
    return f"From {label}{source}, {timesince(fetched_at)} ago"


@dataclass
class FieldView:
    name: str
    label: str
    value: str
    source: str
    status: str
    # Other providers' differing values: (value, hover text).
    conflicts: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ProfileView:
    profile: SocialProfile
    network_label: str
    href: str  # "" when not an http(s) URL: shown as text, never linked
    source: str
    name: str
    fields: list[FieldView]
    links: list[str]


@dataclass
class PanelData:
    withheld: bool = False
    profiles: list[ProfileView] = field(default_factory=list)
    # "Couldn't reach X, will retry" lines, and providers paused by their breaker.
    problems: list[str] = field(default_factory=list)
    initials: str = ""


def _initials(name: str) -> str:
    letters = [part[0] for part in name.split() if part and part[0].isalnum()]
    return "".join(letters[:2]).upper() or "?"


def _profile_view(profile: SocialProfile) -> ProfileView:
    source = provenance(profile.provider, profile.source_url, profile.fetched_at)
    fields = []
    for name, label in (("display_name", "Name"), *SHOWN_FIELDS):
        value = getattr(profile, name)
        conflicts = [
            (
                str(entry.get("value", "")),
                provenance(entry.get("provider", ""), entry.get("source_url", ""), entry["fetched_at"]),
            )
            for entry in profile.conflicts.get(name, [])
            if entry.get("fetched_at")
        ]
        if value or conflicts:
            fields.append(FieldView(name, label, value, source, profile.field_status.get(name, ""), conflicts))
    return ProfileView(
        profile=profile,
        network_label=NETWORK_LABELS.get(profile.network, profile.network),
        href=safe_url(profile.url),
        source=source,
        name=profile.display_name or profile.handle or profile.url,
        fields=fields,
        # Re-checked at render: only absolute http(s) links are ever shown as links.
        links=[link for link in (safe_url(u) for u in profile.links[:10]) if link],
    )


def lookup_pending(contact_id: int) -> bool:
    """Whether a "refresh now" lookup of the contact is queued or running."""
    return bool(cache.get(services.PENDING_KEY.format(contact_id)))


# The contact page's contact query brings the panel's rows along (``panel_prefetch``).
PROFILES_ANNOTATION = "social_profiles_panel_profiles"
PROBLEMS_ANNOTATION = "social_profiles_panel_problems"


def _shown_profiles(contact_ref: Any) -> QuerySet[SocialProfile]:
    return SocialProfile.objects.filter(contact_id=contact_ref).exclude(status=SocialProfile.Status.REJECTED)


def _failed_checks(contact_ref: Any) -> QuerySet[ProviderCheck]:
    return ProviderCheck.objects.filter(contact_id=contact_ref, status=ProviderCheck.Status.FAILED)


def panel_prefetch(request: HttpRequest) -> dict[str, Any]:
    """The panel's rows as annotations of the contact page's contact query (no query of its own).

    The shown profiles as JSON objects, and each failed provider check with when its
    provider's breaker closes (null when it is not open).
    """
    breaker = ProviderState.objects.filter(provider=OuterRef("provider"), opened_until__gt=RequestNow())
    return {
        PROFILES_ANNOTATION: model_json_rows(_shown_profiles(OuterRef("pk"))),
        PROBLEMS_ANNOTATION: json_rows(
            _failed_checks(OuterRef("pk")),
            provider="provider",
            paused_until=Subquery(breaker.values("opened_until")[:1]),
        ),
    }


def _panel_rows(contact: Contact) -> tuple[list[SocialProfile], list[tuple[str, datetime | None]]]:
    """The shown profiles (in the model's order) and (provider, paused until) of failed checks:
    from ``panel_prefetch``'s annotations when the contact has them, else two queries."""
    if PROFILES_ANNOTATION not in contact.__dict__:
        breakers = resilience.open_breakers()
        checks = _failed_checks(contact.pk).values_list("provider", flat=True)
        return list(_shown_profiles(contact.pk)), [(provider, breakers.get(provider)) for provider in checks]
    profiles = models_from_json(SocialProfile, contact.__dict__[PROFILES_ANNOTATION])
    profiles.sort(key=lambda profile: (not profile.verified, -profile.confidence, profile.network, profile.pk))
    problems = [
        (row["provider"], json_datetime(row["paused_until"])) for row in contact.__dict__[PROBLEMS_ANNOTATION] or []
    ]
    return profiles, problems


def panel_data(contact: Contact) -> PanelData:
    """What the contact page's enrichment panel shows: no query on the contact page (see
    ``panel_prefetch``), two (profiles; failed checks with open breakers) on its own.

    Rejected profiles are left out. Nothing is shown when the person withholds their public
    profiles from staff views (consent's privacy preferences).
    """
    privacy = contact_privacy(contact)
    data = PanelData(initials=_initials(privacy.name_for(contact)))
    if not privacy.shows("social_profiles"):
        data.withheld = True
        return data
    profiles, problems = _panel_rows(contact)
    data.profiles = [_profile_view(profile) for profile in profiles]
    for provider, paused_until in sorted(problems, key=lambda problem: problem[0]):
        label = PROVIDER_LABELS.get(provider, provider)
        if paused_until is not None:
            until = timezone.localtime(paused_until)
            data.problems.append(f"Couldn't reach {label}; paused until {until:%H:%M}, will retry then.")
        else:
            data.problems.append(f"Couldn't reach {label}, will retry.")
    return data
