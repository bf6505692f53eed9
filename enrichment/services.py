"""Writing enrichment data: findings into profiles, staff's accept/reject, provider checks, retention."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from consent.selectors import unlinked_networks
from contacts.models import Activity, Contact, Organization
from contacts.services.contacts import organization_create
from contacts.services.timeline import activity_record
from enrichment.findings import Finding
from enrichment.models import REVIEWABLE_FIELDS, ProviderCheck, SocialProfile
from enrichment.restraint import restrain
from enrichment.verification import verify

SOURCE = "enrichment"
# Enrichment's network names where the consent app's "networks not to be linked" spell them differently.
PREFERENCE_NETWORK = {"fediverse": "mastodon"}
# Profile values staff may copy onto the contact by accepting them: profile field -> contact field.
COPYABLE_FIELDS = {"title": "title", "location": "location", "company": "organization"}
ACCEPTED, REJECTED = "accepted", "rejected"


@dataclass
class UpsertResult:
    created: list[SocialProfile] = field(default_factory=list)
    updated: list[SocialProfile] = field(default_factory=list)
    skipped_networks: set[str] = field(default_factory=set)


def network_unlinked(network: str, unlinked: Iterable[str]) -> bool:
    """Whether the person asked for ``network`` (an enrichment network name) not to be linked."""
    return PREFERENCE_NETWORK.get(network, network) in set(unlinked)


def _site_findings(profiles: Iterable[SocialProfile], *, fresh: Iterable[Finding]) -> list[Finding]:
    """The contact's stored website profiles as findings, so a profile found later is verified against them.

    Sites in ``fresh`` (this run's findings) are left out: what a site links to now wins over
    what it linked to when it was stored.
    """
    fresh_urls = {f.url for f in fresh if f.network == "website"}
    return [
        Finding(network="website", provider="website", url=site.url, verified_links=list(site.links))
        for site in profiles
        if site.network == "website" and site.status != SocialProfile.Status.REJECTED and site.url not in fresh_urls
    ]


def _values(finding: Finding) -> dict[str, Any]:
    return {name: getattr(finding, name) for name in REVIEWABLE_FIELDS}


def _refresh(profile: SocialProfile, finding: Finding) -> None:
    """New values from the provider that found the profile; per-field decisions stay meaningful."""
    for name, value in _values(finding).items():
        if profile.field_status.get(name) == REJECTED:
            continue  # staff said no: keep it out, whatever the source says now
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            # An accepted value that changed is a new value: it needs a new decision.
            profile.field_status.pop(name, None)
    profile.handle = finding.handle
    profile.feeds = finding.feeds
    profile.source_url = finding.source_url
    profile.fetched_at = finding.fetched_at
    # Verification is what the links say now: a back-link that disappeared takes the badge (and
    # the verified confidence) with it. ``finding`` comes out of ``verify`` for this run.
    profile.confidence = finding.confidence
    profile.verified = finding.verified


def _note_conflicts(profile: SocialProfile, finding: Finding) -> None:
    """Another provider's differing values go next to the profile's own: shown side by side, never merged."""
    for name, value in _values(finding).items():
        others = [entry for entry in profile.conflicts.get(name, []) if entry.get("provider") != finding.provider]
        if value and value != getattr(profile, name) and profile.field_status.get(name) != REJECTED:
            others.append(
                {
                    "value": value,
                    "provider": finding.provider,
                    "source_url": finding.source_url,
                    "fetched_at": finding.fetched_at.isoformat(),
                }
            )
        if others:
            profile.conflicts[name] = others
        else:
            profile.conflicts.pop(name, None)
    profile.verified = profile.verified or finding.verified


@transaction.atomic
def profiles_upsert(*, contact: Contact, findings: Sequence[Finding]) -> UpsertResult:
    """Store ``findings`` as the contact's SocialProfiles; idempotent.

    Findings are restrained first (allowed fields, no special-category text) and verified
    against each other and the contact's stored websites. One row per (network, url): the
    provider that found it first owns its values and refreshes them; a different provider's
    differing values are kept in ``conflicts``. Opt-out findings, findings without a URL,
    networks the person asked not to link and rejected profiles store nothing. Writes one
    "N public profiles found" timeline row when something new was found.
    """
    result = UpsertResult()
    unlinked = unlinked_networks(contact)
    usable = []
    for finding in findings:
        if finding.opt_out or not finding.url:
            continue
        if network_unlinked(finding.network, unlinked):
            result.skipped_networks.add(finding.network)
            continue
        usable.append(restrain(finding))
    if not usable:
        return result
    # One lock on the contact serializes runs for it, and one query reads its profiles (the
    # stored sites included): not a SELECT FOR UPDATE, savepoint and INSERT per finding.
    list(Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk", flat=True))
    stored = {(p.network, p.url): p for p in SocialProfile.objects.filter(contact=contact)}
    checked = verify([*usable, *_site_findings(stored.values(), fresh=usable)])[: len(usable)]
    for finding in checked:
        profile = stored.get((finding.network, finding.url))
        if profile is None:
            profile = SocialProfile(
                contact=contact,
                network=finding.network,
                url=finding.url,
                **_values(finding),
                handle=finding.handle,
                feeds=finding.feeds,
                provider=finding.provider,
                source_url=finding.source_url,
                fetched_at=finding.fetched_at,
                confidence=finding.confidence,
                verified=finding.verified,
            )
            stored[(finding.network, finding.url)] = profile
            result.created.append(profile)
            continue
        if profile.status == SocialProfile.Status.REJECTED:
            continue
        if profile.provider == finding.provider:
            _refresh(profile, finding)
        else:
            _note_conflicts(profile, finding)
        if profile.pk is not None and profile not in result.updated:
            result.updated.append(profile)
    SocialProfile.objects.bulk_create(result.created)
    for profile in result.updated:
        profile.save()
    if result.created:
        count = len(result.created)
        activity_record(
            contact=contact,
            kind=Activity.Kind.PROFILE_FOUND,
            subject=f"{count} public profile{'s' if count != 1 else ''} found",
            source=SOURCE,
            payload={
                "profile_ids": [p.pk for p in result.created],
                "networks": sorted({p.network for p in result.created}),
            },
        )
    return result


@transaction.atomic
def profiles_forget_opted_out(*, contact: Contact, findings: Iterable[Finding]) -> list[str]:
    """Delete what the providers of opt-out findings had found for ``contact``; return those providers."""
    providers = sorted({f.provider for f in findings if f.opt_out})
    if providers:
        SocialProfile.objects.filter(contact=contact, provider__in=providers).delete()
    return providers


# --- staff's decisions --------------------------------------------------------------------------


def _check_field(name: str | None) -> None:
    if name is not None and name not in REVIEWABLE_FIELDS:
        raise ValidationError({"field": f"Unknown profile field {name!r}."})


def _copy_to_contact(*, actor: Any, contact: Contact, name: str, value: str) -> bool:
    """Fill the contact's field from an accepted value, only where staff left it empty. Returns whether it did."""
    target = COPYABLE_FIELDS[name]
    if not value:
        return False
    if target == "organization":
        organization = Organization.objects.filter(team_id=contact.team_id, name__iexact=value, archived=False).first()
        if organization is None:
            if Contact.objects.filter(pk=contact.pk, organization__isnull=False).exists():
                return False
            organization = organization_create(actor=actor, team=contact.team, name=value)
        # Conditional UPDATE: a value staff typed meanwhile is never overwritten.
        copied = Contact.objects.filter(pk=contact.pk, organization__isnull=True).update(organization=organization)
    else:
        copied = Contact.objects.filter(pk=contact.pk, **{target: ""}).update(**{target: value})
    return bool(copied)


@transaction.atomic
def profile_accept(*, actor: Any, profile: SocialProfile, field: str | None = None) -> list[str]:
    """Accept a profile (``field=None``) or one of its values; return the contact fields filled.

    Accepting copies title, location and company (as the organization) onto the contact,
    but only into fields that are empty: a value staff typed is never overwritten. Accepting
    a value also accepts its profile (it is the person's).
    """
    _check_field(field)
    profile.status = SocialProfile.Status.ACCEPTED
    if field is not None:
        profile.field_status[field] = ACCEPTED
    names = [field] if field is not None else [n for n in REVIEWABLE_FIELDS if profile.field_status.get(n) != REJECTED]
    filled = [
        COPYABLE_FIELDS[name]
        for name in names
        if name in COPYABLE_FIELDS
        and _copy_to_contact(actor=actor, contact=profile.contact, name=name, value=getattr(profile, name))
    ]
    profile.save(update_fields=["status", "field_status", "updated_at"])
    return filled


@transaction.atomic
def profile_reject(*, actor: Any, profile: SocialProfile, field: str | None = None) -> SocialProfile:
    """Reject a profile ("not this person") or one value ("wrong").

    What is rejected is deleted, not just hidden: a rejected profile keeps only its network
    and URL (so it is not suggested again), a rejected value is blanked and not refilled.
    """
    _check_field(field)
    names = [field] if field is not None else list(REVIEWABLE_FIELDS)
    for name in names:
        setattr(profile, name, [] if name == "links" else "")
        profile.conflicts.pop(name, None)
        profile.field_status[name] = REJECTED
    if field is None:
        profile.status = SocialProfile.Status.REJECTED
        profile.handle = ""
        profile.feeds = []
        profile.verified = False
        profile.field_status = {}
        profile.conflicts = {}
    profile.save()
    return profile


# --- lookups in progress (the panel's "Looking up..."), what providers said, retention ---------------


PENDING_KEY = "enrichment:pending:{}"
PENDING_SECONDS = 600


def lookup_started(*, contact_id: int) -> None:
    """Show "Looking up..." on the panel until the run finishes (or ``PENDING_SECONDS`` pass)."""
    cache.set(PENDING_KEY.format(contact_id), True, PENDING_SECONDS)


def lookup_finished(*, contact_id: int) -> None:
    cache.delete(PENDING_KEY.format(contact_id))


def provider_checks_record(
    *, contact: Contact, checks: Sequence[ProviderCheck], subject_key: str, now: datetime | None = None
) -> None:
    """Remember what each provider answered about a contact (the panel's status, the negative cache).

    ``checks`` are unsaved rows with provider, status, until and error set; one upsert for all.
    """
    for check in checks:
        check.contact = contact
        check.subject_key = subject_key
        check.checked_at = now or timezone.now()
        check.error = check.error[:100]
    ProviderCheck.objects.bulk_create(
        checks,
        update_conflicts=True,
        unique_fields=["contact", "provider"],
        update_fields=["status", "subject_key", "checked_at", "until", "error"],
    )


def profiles_remove_expired(*, now: datetime | None = None) -> int:
    """Delete profiles not refreshed for ``ENRICHMENT_PROFILE_MAX_AGE_DAYS``; return how many.

    A refresh renews ``fetched_at``; profiles it could not renew (the gate said no, the
    source is gone) age out. Values staff accepted onto the contact stay on the contact.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.ENRICHMENT_PROFILE_MAX_AGE_DAYS)
    deleted, _ = SocialProfile.objects.filter(fetched_at__lt=cutoff, is_demo=False).delete()
    return deleted
