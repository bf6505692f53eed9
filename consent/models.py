"""Purposes, the append-only consent ledger, current consent state, privacy preferences
and the suppression list.

The ledger (``ConsentEvent``) is append-only at three layers: the model refuses
``save()`` on an existing row and ``delete()``; its QuerySet refuses ``update()`` and
``delete()``; on PostgreSQL a trigger (migrations 0003, 0005) raises on UPDATE, and on
DELETE unless the transaction set ``socialcrm.erasure`` to the id of the row's contact
(``consent.services.consent_events_erase`` does, for erasure). Deleting a contact that
still has a ledger is refused (PROTECT): erasure removes the ledger first, through the
personal-data holder.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from contacts.models import Contact
from socialcrm.models import TimestampedModel


class LawfulBasis(models.TextChoices):
    """GDPR Art. 6(1) (a)-(f)."""

    CONSENT = "consent", "Consent"
    CONTRACT = "contract", "Contract"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"
    VITAL_INTERESTS = "vital_interests", "Vital interests"
    PUBLIC_TASK = "public_task", "Public task"
    LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests"


class BusinessFunction(models.TextChoices):
    """The parts of the business a person may allow to engage them (privacy preferences)."""

    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    SUPPORT = "support", "Support"


class Analytics(models.TextChoices):
    """The analytics a person may allow others to apply to them (privacy preferences)."""

    SENTIMENT = "sentiment", "Sentiment monitoring"
    OFFER_TARGETING = "offer_targeting", "Offer targeting"
    INFLUENCE = "influence", "Influence measurement"


class Network(models.TextChoices):
    """Networks enrichment may link a person's profiles on (and they may refuse)."""

    GRAVATAR = "gravatar", "Gravatar"
    GITHUB = "github", "GitHub"
    MASTODON = "mastodon", "Mastodon / fediverse"
    BLUESKY = "bluesky", "Bluesky"
    WEBSITE = "website", "Personal website"


class Purpose(models.Model):
    """Why personal data is processed. Seeded by migration 0002; the DPO edits them.

    ``business_function`` and ``analytics`` tie a purpose to the privacy preferences
    that can refuse it; ``is_outreach`` purposes contact the person (do-not-contact
    refuses them); an objection to an ``is_direct_marketing`` purpose is absolute and
    also stops every ``is_profiling`` purpose.
    """

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(help_text="Shown to people: what we do and why, in plain words.")
    lawful_basis = models.CharField(max_length=32, choices=LawfulBasis.choices)
    retention_days = models.PositiveIntegerField(help_text="How long data held only for this purpose is kept.")
    data_categories = models.JSONField(default=list, blank=True, help_text="e.g. contact details, public posts.")
    business_function = models.CharField(max_length=32, choices=BusinessFunction.choices, blank=True)
    analytics = models.CharField(max_length=32, choices=Analytics.choices, blank=True)
    is_outreach = models.BooleanField(default=False, help_text="Contacts the person (do-not-contact refuses it).")
    is_direct_marketing = models.BooleanField(default=False)
    is_profiling = models.BooleanField(default=False)
    # The legitimate-interests assessment (balancing test) the DPO recorded, if any.
    lia_summary = models.TextField("legitimate-interests assessment", blank=True)
    lia_assessed_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def needs_assessment(self) -> bool:
        return self.lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS and self.lia_assessed_at is None


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a ledger row."""


class ConsentEventQuerySet(models.QuerySet["ConsentEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("The consent ledger is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        from consent.erasure import erasing_contact_id

        erasing = erasing_contact_id()
        # Only the rows of the person being erased: one query to make sure of it.
        if erasing is None or self.exclude(contact_id=erasing).exists():
            raise AppendOnlyError("The consent ledger is append-only; erase through consent_events_erase().")
        return super().delete()


class ConsentEvent(models.Model):
    """One entry of the consent ledger. Never changed, never deleted (except by erasure)."""

    class Action(models.TextChoices):
        GRANT = "grant", "Consent given"
        WITHDRAW = "withdraw", "Consent withdrawn"
        OBJECT = "object", "Objected"
        RESTRICT = "restrict", "Processing restricted"
        LIFT = "lift", "Restriction lifted"

    class Source(models.TextChoices):
        FORM = "form", "Web form"
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone call"
        IMPORT = "import", "Import"
        PORTAL = "portal", "Privacy portal"
        STAFF = "staff", "Recorded by staff"

    receipt_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="consent_events")
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=16, choices=Action.choices)
    lawful_basis = models.CharField(max_length=32, choices=LawfulBasis.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    evidence = models.TextField(help_text="What the person said or did, and where it is kept.")
    notice_version = models.CharField(max_length=64, blank=True, help_text="The privacy notice they were shown.")
    # Users are deactivated, never deleted, once they have recorded consent.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[ConsentEvent]] = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ("-occurred_at", "-id")
        indexes = [
            models.Index(fields=["contact", "purpose", "-occurred_at"], name="consentevent_contact_idx"),
            # The DPO console's "recent withdrawals and objections": read newest first, stop at 20.
            models.Index(
                fields=["-occurred_at", "-id"],
                name="consentevent_refusals_idx",
                condition=Q(action__in=["withdraw", "object"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.purpose_id} · {self.occurred_at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The consent ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The consent ledger is append-only; erase through consent_events_erase().")


class ConsentState(models.Model):
    """Where the ledger stands for one (contact, purpose): maintained by ``consent_record``.

    ``consent`` and the ``objected`` / ``restricted`` flags are independent: an objection
    or a restriction stops processing whatever the consent says; a later grant clears an
    objection to that purpose (the person changed their mind); ``lift`` ends a restriction.
    """

    class Consent(models.TextChoices):
        NONE = "", "Not asked"
        GRANTED = "granted", "Given"
        WITHDRAWN = "withdrawn", "Withdrawn"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_states")
    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="states")
    consent = models.CharField(max_length=16, choices=Consent.choices, blank=True)
    lawful_basis = models.CharField(max_length=32, choices=LawfulBasis.choices)
    objected = models.BooleanField(default=False)
    restricted = models.BooleanField(default=False)
    since = models.DateTimeField(help_text="When the last event happened.")
    source = models.CharField(max_length=16, choices=ConsentEvent.Source.choices)
    last_event = models.ForeignKey(ConsentEvent, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "purpose"], name="consentstate_unique")]
        indexes = [
            # The console's "recent objections / restrictions" and the objection rule.
            models.Index(fields=["purpose", "contact"], name="consentstate_blocked_idx", condition=Q(objected=True)),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}/{self.purpose_id}: {self.consent or '-'}"


def _all_values(choices: type[models.TextChoices]) -> list[str]:
    return [value for value, _ in choices.choices]


def _all_business_functions() -> list[str]:
    return _all_values(BusinessFunction)


def _all_analytics() -> list[str]:
    return _all_values(Analytics)


class PrivacyPreference(TimestampedModel):
    """A person's privacy controls. No row means the defaults: nothing refused.

    The lists hold choice values (``WITHHOLDABLE_ATTRIBUTES`` keys, ``Network``,
    ``BusinessFunction``, ``Analytics``); forms validate them.
    """

    class IdentifyBy(models.TextChoices):
        NAME = "name", "Their name"
        PSEUDONYM = "pseudonym", "A pseudonym"

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="privacy_preference")
    identify_by = models.CharField(max_length=16, choices=IdentifyBy.choices, default=IdentifyBy.NAME)
    pseudonym = models.CharField(max_length=150, blank=True)
    withheld_attributes = models.JSONField(default=list, blank=True)
    unlinked_networks = models.JSONField(default=list, blank=True)
    business_functions = models.JSONField(default=_all_business_functions, blank=True)
    allowed_analytics = models.JSONField(default=_all_analytics, blank=True)
    do_not_contact = models.BooleanField(default=False)
    # Set when one of the contact's identifiers is on the suppression list (see suppression.py).
    suppressed_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Privacy preferences of contact {self.contact_id}"

    @property
    def shown_name(self) -> str:
        return self.pseudonym if self.identify_by == self.IdentifyBy.PSEUDONYM and self.pseudonym else ""


class Suppression(models.Model):
    """An identifier that must never be processed again (an erased person's email).

    Only a keyed HMAC-SHA256 of the normalized identifier is stored, never the value.
    """

    digest = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, default="email")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:12]}..."
