"""Enrichment's part of a data-subject export and of an erasure (registered in EnrichmentConfig.ready).

The export is per person (their right of access) and includes every profile found about
them, GitHub's too. There is no bulk export of enrichment data: GitHub's terms forbid
redistributing its user data, so no list or CSV export of many contacts includes profiles.
"""

from __future__ import annotations

from typing import Any

from contacts.models import Contact
from enrichment.models import ProviderCheck, SocialProfile

PERSONAL_DATA_MODELS = (SocialProfile, ProviderCheck)
PROFILE_FIELDS = (
    "network",
    "url",
    "handle",
    "display_name",
    "avatar_url",
    "bio",
    "location",
    "company",
    "title",
    "links",
    "feeds",
    "provider",
    "source_url",
    "confidence",
    "verified",
    "status",
    "field_status",
    "conflicts",
)


def export_enrichment(contact: Contact) -> dict[str, Any]:
    """The profiles found about the person (with source and date) and which sources were asked."""
    profiles = [
        {**{name: getattr(p, name) for name in PROFILE_FIELDS}, "fetched_at": p.fetched_at.isoformat()}
        for p in SocialProfile.objects.filter(contact=contact).order_by("id")
    ]
    checks = [
        {"provider": c.provider, "status": c.status, "checked_at": c.checked_at.isoformat()}
        for c in ProviderCheck.objects.filter(contact=contact).order_by("provider")
    ]
    return {"social_profiles": profiles, "provider_checks": checks}


def erase_enrichment(contact: Contact) -> None:
    SocialProfile.objects.filter(contact=contact).delete()
    ProviderCheck.objects.filter(contact=contact).delete()
