"""What enrichment keeps: found profiles, what each provider last said, circuit breakers, keywords.

Nothing here stores a raw provider payload: a ``SocialProfile`` holds only the fields of a
restrained ``Finding`` (enrichment/restraint.py), with its source and date.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact
from socialcrm.models import Team, TimestampedModel

# Profile fields staff may accept or reject one by one (the rest are identity and provenance).
REVIEWABLE_FIELDS = ("display_name", "avatar_url", "bio", "location", "company", "title", "links")


class SocialProfile(TimestampedModel):
    """One public profile of a contact, as one provider found it.

    Unique per (contact, network, url): a second provider describing the same profile never
    overwrites the first one's values; where they differ, its values go into ``conflicts``
    (``{field: [{"value", "provider", "source_url", "fetched_at"}]}``) and the panel shows
    both. ``field_status`` holds per-field decisions (``{field: "accepted" | "rejected"}``).
    A rejected profile keeps only its identity (network, url), so it is not suggested again.
    """

    class Status(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="social_profiles")
    network = models.CharField(max_length=32)
    url = models.URLField(max_length=500)
    handle = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    bio = models.TextField(max_length=1000, blank=True)
    location = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    links = models.JSONField(default=list, blank=True)
    feeds = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=32)
    source_url = models.URLField(max_length=500, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)
    confidence = models.FloatField(default=0.5)
    verified = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUGGESTED)
    field_status = models.JSONField(default=dict, blank=True)
    conflicts = models.JSONField(default=dict, blank=True)
    # When social listening last read this profile's feeds (NULL: never).
    listened_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ("-verified", "-confidence", "network", "id")
        constraints = [
            models.UniqueConstraint(fields=["contact", "network", "url"], name="socialprofile_unique_per_contact"),
        ]
        indexes = [
            # The refresh and retention sweeps scan by age.
            models.Index(fields=["fetched_at"], name="socialprofile_fetched_idx"),
            models.Index(fields=["listened_at"], name="socialprofile_listen_idx", condition=Q(status="accepted")),
        ]

    def __str__(self) -> str:
        return f"{self.network} profile {self.url}"


class ProviderCheck(models.Model):
    """What one provider last said about one contact: the panel's status and the negative cache.

    ``subject_key`` is a digest of what was looked up (emails, websites, handles): a result
    only counts for the same subject, so a new email makes the provider ask again.
    ``OPTED_OUT`` is permanent ("don't ask again"): the person told that source to keep them
    out of lookups, so that provider is never asked about them again. ``error`` is the
    exception's class name only (no URL, no personal data).
    """

    class Status(models.TextChoices):
        FOUND = "found", "Found"
        NOTHING = "nothing", "Nothing found"
        FAILED = "failed", "Could not reach"
        OPTED_OUT = "opted_out", "Opted out"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="provider_checks")
    provider = models.CharField(max_length=32)
    status = models.CharField(max_length=12, choices=Status.choices)
    subject_key = models.CharField(max_length=64, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)
    # Until when the result stands (nothing found) or when the next retry is due (failed).
    until = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "provider"], name="providercheck_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} for {self.contact_id}: {self.status}"


class ProviderState(models.Model):
    """A provider's circuit breaker, shared by every worker (one row per provider).

    After ``ENRICHMENT_BREAKER_FAILURES`` consecutive failures the breaker opens until
    ``opened_until``; one success closes it again.
    """

    provider = models.CharField(max_length=32, unique=True)
    failures = models.PositiveIntegerField(default=0)
    opened_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.provider}: {self.failures} failures"


class ListeningKeyword(models.Model):
    """A word a team wants to hear about in its contacts' public posts ("evaluating", "frustrated")."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="listening_keywords")
    keyword = models.CharField(max_length=60)

    class Meta:
        ordering = ("keyword",)
        constraints = [models.UniqueConstraint(fields=["team", "keyword"], name="listeningkeyword_unique")]

    def __str__(self) -> str:
        return self.keyword
