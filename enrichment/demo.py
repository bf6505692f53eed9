"""Demo profiles for the demo team's contacts: some verified, some suggested, all marked as demo data.

Written directly as rows (no provider is asked): the URLs are on ``.example`` domains, so a
demo never points at a real person's profile. ``is_demo`` keeps them out of refresh and
retention sweeps and shows a "Demo data" badge on the panel.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.text import slugify

from contacts.models import Contact
from enrichment.models import ListeningKeyword, SocialProfile
from socialcrm.registry import DemoContext

# (network, provider, url pattern, verified, confidence, days ago); {slug} is the contact's name.
PROFILES = [
    ("website", "website", "https://{slug}.example/", False, 0.9, 3),
    ("github", "github", "https://code.demo.example/{slug}", True, 0.95, 3),
    ("fediverse", "fediverse", "https://social.demo.example/@{slug}", True, 0.95, 10),
    ("gravatar", "gravatar", "https://avatars.demo.example/{slug}", False, 0.9, 30),
]
KEYWORDS = ("evaluating", "frustrated", "switching")
DEMO_CONTACTS = 8


def load_demo_profiles(context: DemoContext) -> None:
    """Found profiles on the first demo contacts (once): even ones verified, odd ones suggested."""
    contacts = list(
        Contact.objects.filter(team=context.team).select_related("organization").order_by("id")[:DEMO_CONTACTS]
    )
    if not contacts:
        context.say("  no demo contacts yet; no profiles added.")
        return
    if SocialProfile.objects.filter(contact__in=contacts).exists():
        context.say("  the demo contacts already have profiles; left as they are.")
        return
    now = timezone.now()
    rows = []
    for index, contact in enumerate(contacts):
        slug = slugify(contact.display_name) or f"contact-{contact.pk}"
        site = f"https://{slug}.example/"
        for network, provider, pattern, verified, confidence, days_ago in PROFILES[: 2 + index % 3]:
            two_way = verified and index % 2 == 0
            rows.append(
                SocialProfile(
                    contact=contact,
                    network=network,
                    provider=provider,
                    url=pattern.format(slug=slug),
                    source_url=pattern.format(slug=slug),
                    handle=slug if network != "website" else "",
                    display_name=contact.display_name,
                    title=contact.title,
                    company=contact.organization.name if contact.organization else "",
                    location="Lisbon, Portugal" if index % 2 else "Utrecht, Netherlands",
                    bio="Builds things for the web. Demo data.",
                    links=[site] if network != "website" else [],
                    fetched_at=now - timedelta(days=days_ago),
                    confidence=0.95 if two_way else (0.7 if verified else confidence),
                    verified=two_way,
                    is_demo=True,
                )
            )
    SocialProfile.objects.bulk_create(rows)
    ListeningKeyword.objects.bulk_create(
        [ListeningKeyword(team=context.team, keyword=k) for k in KEYWORDS], ignore_conflicts=True
    )
    context.say(f"  {len(rows)} demo profiles on {len(contacts)} contacts; listening keywords {', '.join(KEYWORDS)}.")
