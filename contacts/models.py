from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from socialcrm.models import Team, TimestampedModel


class Organization(TimestampedModel):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="organizations")
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="The organization's email/web domain.")
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ("name", "id")
        indexes = [models.Index(fields=["team", "name", "id"], name="org_team_name_idx")]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ("name",)
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="tag_unique_per_team")]

    def __str__(self) -> str:
        return self.name


class Contact(TimestampedModel):
    """A person the team keeps a relationship with."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="contacts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_contacts"
    )
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    display_name = models.CharField(max_length=300)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    title = models.CharField("role / title", max_length=200, blank=True)
    location = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    cadence_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Keep in touch at least every this many days."
    )
    archived = models.BooleanField(default=False)
    # Derived from the timeline by the services that write conversations.
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("display_name", "id")
        indexes = [
            models.Index(fields=["team", "display_name", "id"], name="contact_team_name_idx"),
            models.Index(fields=["team", "-last_contacted_at", "-id"], name="contact_team_lastcontact_idx"),
            models.Index(fields=["organization", "display_name"], name="contact_org_name_idx"),
            models.Index(fields=["owner", "display_name"], name="contact_owner_name_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @staticmethod
    def compose_display_name(first_name: str, last_name: str, fallback: str = "") -> str:
        return " ".join(part for part in (first_name.strip(), last_name.strip()) if part) or fallback.strip()

    @property
    def awaiting_reply(self) -> bool:
        """The last outbound email is newer than the last inbound one."""
        if self.last_outbound_at is None:
            return False
        return self.last_inbound_at is None or self.last_outbound_at > self.last_inbound_at


class ContactMethod(models.Model):
    """An email address, phone number, website or social handle of a contact.

    ``value`` is what staff typed; ``normalized`` is what matching, dedupe and
    suppression use (lower-cased email with an IDNA domain, E.164 phone, ...).
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        WEBSITE = "website", "Website"
        HANDLE = "handle", "Social handle"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="methods")
    # Copied from the contact so "one email per team" can be a database constraint.
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=320)
    normalized = models.CharField(max_length=320)
    label = models.CharField(max_length=60, blank=True, help_text="work, home, mobile, mastodon, ...")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ("kind", "-is_primary", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "normalized"],
                condition=Q(kind="email"),
                name="contactmethod_unique_email_per_team",
            ),
            models.UniqueConstraint(fields=["contact", "kind", "normalized"], name="contactmethod_unique_per_contact"),
        ]
        indexes = [models.Index(fields=["kind", "normalized"], name="contactmethod_lookup_idx")]

    def __str__(self) -> str:
        return self.value


class Activity(models.Model):
    """One thing that happened to a contact: the timeline. Append-mostly.

    Other apps add rows only through ``contacts.services.activity_record``.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"
        SOCIAL_POST = "social_post", "Public post"
        REMINDER_CREATED = "reminder_created", "Reminder set"
        REMINDER_DONE = "reminder_done", "Reminder done"
        REMINDER_SNOOZED = "reminder_snoozed", "Reminder snoozed"
        PROFILE_FOUND = "profile_found", "Public profiles found"
        CONSENT_CHANGED = "consent_changed", "Consent changed"
        REQUEST = "request", "Data-subject request"
        MERGED = "merged", "Contacts merged"
        SYSTEM = "system", "Update"

    class Direction(models.TextChoices):
        NONE = "", "—"
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="activities")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices, blank=True, default="")
    subject = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True)
    # Sanitized HTML (nh3) for email bodies; the plain ``body`` is always there too.
    body_html = models.TextField(blank=True)
    source = models.CharField(max_length=32, blank=True, help_text="manual, email, import, enrichment, ...")
    external_id = models.CharField(max_length=500, blank=True, help_text="e.g. the email's Message-ID")
    thread_key = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-occurred_at", "-id")
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["contact", "-occurred_at", "-id"], name="activity_timeline_idx"),
            models.Index(fields=["thread_key"], name="activity_thread_idx", condition=~Q(thread_key="")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "kind", "external_id"],
                condition=~Q(external_id=""),
                name="activity_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"


class SavedView(models.Model):
    """A user's named contact-list filter (the list page's query string), to reopen in one click."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_contact_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, blank=True, help_text="The list's filter query string.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "id")
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="savedview_unique_name_per_user")]

    def __str__(self) -> str:
        return self.name
