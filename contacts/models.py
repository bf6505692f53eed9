from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
    # The reminders' clocks (contacts/services/reminders.py): when a keep-in-touch nudge and
    # an awaiting-reply nudge fall due. Stored so beat finds breaches with one indexed range
    # scan; NULL when there is nothing to wait for or the nudge was already made.
    cadence_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    reply_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("display_name", "id")
        indexes = [
            models.Index(
                fields=["cadence_due_at"], name="contact_cadence_due_idx", condition=Q(cadence_due_at__isnull=False)
            ),
            models.Index(
                fields=["reply_due_at"], name="contact_reply_due_idx", condition=Q(reply_due_at__isnull=False)
            ),
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
    # Always the contact's organization, kept so by the database (triggers in migration 0011,
    # whoever writes: services, COPY, the admin, raw SQL): the organization page's combined
    # timeline reads one range of ``activity_org_timeline_idx`` instead of every entry of
    # every person. Never set it; Django leaves it alone (DO_NOTHING), the triggers clear it
    # when the organization goes (its contacts' organization is set to NULL first).
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
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
            models.Index(
                fields=["organization", "-occurred_at", "-id"],
                name="activity_org_timeline_idx",
                condition=Q(organization__isnull=False),
            ),
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


# --- Reminders, nudges and their notifications (contacts/services/reminders.py) ------------

OPEN_REMINDER_STATUSES = ("open", "snoozed")


class Reminder(TimestampedModel):
    """A follow-up someone must do for a contact, due at an instant.

    Open and snoozed reminders are "pending": they fall due at ``due_at``. ``notify_at`` is
    the pending due notification (set with ``due_at``, cleared once beat made the
    notification), so beat finds what to notify with one range scan of a small index.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        SNOOZED = "snoozed", "Snoozed"
        CANCELLED = "cancelled", "Cancelled"

    class Recurrence(models.TextChoices):
        NONE = "", "Does not repeat"
        DAILY = "daily", "Every day"
        WEEKLY = "weekly", "Every week"
        MONTHLY = "monthly", "Every month"
        EVERY_N_DAYS = "days", "Every N days"

    class Kind(models.TextChoices):
        MANUAL = "manual", "Reminder"
        CADENCE = "cadence", "Keep in touch"
        AWAITING_REPLY = "awaiting_reply", "Awaiting reply"
        ALERT = "alert", "Alert"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="reminders")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    due_at = models.DateTimeField()
    note = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    recurrence = models.CharField(max_length=8, choices=Recurrence.choices, blank=True, default=Recurrence.NONE)
    interval_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="For every N days.")
    # A series' occurrences are computed from its first due time (31 Jan, 28 Feb, 31 Mar...),
    # never from the previous one, so month ends do not drift.
    series_start = models.DateTimeField(null=True, blank=True)
    series_index = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notify_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("due_at", "id")
        indexes = [
            # "My reminders", the bell, digests: an assignee's pending reminders by due time.
            models.Index(
                fields=["assignee", "due_at"],
                name="reminder_pending_idx",
                condition=Q(status__in=OPEN_REMINDER_STATUSES),
            ),
            models.Index(fields=["notify_at"], name="reminder_notify_idx", condition=Q(notify_at__isnull=False)),
            models.Index(fields=["contact", "status", "due_at"], name="reminder_contact_idx"),
            # The team dashboard's 8-week history of closed reminders.
            models.Index(fields=["assignee", "completed_at"], name="reminder_completed_idx"),
        ]
        constraints = [
            # At most one pending nudge of each kind per contact, so two beat ticks cannot both make one.
            models.UniqueConstraint(
                fields=["contact", "kind"],
                condition=Q(kind__in=("cadence", "awaiting_reply"), status__in=OPEN_REMINDER_STATUSES),
                name="reminder_one_pending_nudge",
            ),
            models.CheckConstraint(
                condition=~Q(recurrence="days") | Q(interval_days__gte=1),
                name="reminder_every_n_days_has_n",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.contact_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_pending(self) -> bool:
        return self.status in OPEN_REMINDER_STATUSES

    @property
    def is_recurring(self) -> bool:
        return self.recurrence != self.Recurrence.NONE


class TeamSettings(models.Model):
    """A team's reminder settings (kept here rather than on Team: contacts owns reminders)."""

    DEFAULT_AWAITING_REPLY_DAYS = 3

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="reminder_settings")
    awaiting_reply_days = models.PositiveSmallIntegerField(
        default=DEFAULT_AWAITING_REPLY_DAYS, help_text="Nudge the sender when an email has had no reply for this long."
    )
    # Email (contacts/email/): mail from these domains is ours (outbound), and the secret
    # token of the team's BCC/forward dropbox (the inbound webhook's URL). Empty: no dropbox.
    own_domains = models.JSONField(default=list, blank=True, help_text="The team's own email domains.")
    dropbox_token = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name_plural = "team settings"

    def __str__(self) -> str:
        return f"Reminder settings of {self.team_id}"


class InboundDelivery(models.Model):
    """A dropbox webhook request already accepted: its signature, refused if it comes again.

    In the database rather than the cache so a replay is refused even while Redis is down;
    ``contacts/email/dropbox.py`` deletes rows once their timestamp is past the window.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    signed_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "signature"], name="inbound_delivery_once")]

    def __str__(self) -> str:
        return f"Dropbox delivery {self.signature[:12]} to {self.team_id}"


class NotificationPreference(models.Model):
    """How a user wants to hear about reminders (defaults apply while there is no row)."""

    DEFAULT_DIGEST_HOUR = 8

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_pref")
    digest_enabled = models.BooleanField("email me a daily digest", default=True)
    digest_hour = models.PositiveSmallIntegerField(
        default=DEFAULT_DIGEST_HOUR, help_text="The hour of the day, in your time zone, the digest is sent."
    )
    email_on_due = models.BooleanField("email me when a reminder falls due", default=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(digest_hour__lte=23), name="notificationpref_hour_of_day")]

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"


class Notification(models.Model):
    """One notification to one user, made exactly once.

    ``key`` is its idempotency key (``due:<reminder>:<due_at>``, ``digest:<user>:<local date>``):
    a second beat tick making the same notification hits the unique constraint. ``sent_at``
    is set, under a row lock, in the transaction that emails it, so it is emailed once.
    No contact data is stored here: it is rendered from the reminder when shown or sent.
    """

    class Kind(models.TextChoices):
        DUE = "due", "Reminder due"
        DIGEST = "digest", "Daily digest"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=200, unique=True)
    reminder = models.ForeignKey(Reminder, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    emailed = models.BooleanField(default=False)
    # For digests: "2 overdue, 3 today" (counts only); empty when there was nothing to say.
    summary = models.CharField(max_length=200, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx"),
            models.Index(fields=["created_at"], name="notification_unsent_idx", condition=Q(sent_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.key


class CalendarFeed(models.Model):
    """A user's secret calendar URL. The token is the only credential; rotating it kills old links."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64)
    rotated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user_id}"


# --- Import, merge (contacts/importing/, contacts/services/imports.py, contacts/services/merge.py)


class BackgroundJob(TimestampedModel):
    """A file worked through by a Celery task while a page shows its progress (imports, email uploads).

    The task claims the job (``contacts.services.jobs.job_claim``: queued to running, so a
    redelivered task does nothing), saves its progress after each committed batch (the page
    polls the row) and ends it done, or failed with a reason a person can read. Its owner may
    cancel it (``contacts.services.jobs.job_cancel``): a queued job ends at once; a running
    one is ``cancelled`` with no ``finished_at`` while its task finishes the batch it is
    writing (``stopping``), and ends when the task notices. Subclasses give ``status`` its
    choices: these five and their own.
    """

    QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"

    status = models.CharField(max_length=16)
    failure = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def cancellable(self) -> bool:
        return self.status in (self.QUEUED, self.RUNNING)

    @property
    def stopping(self) -> bool:
        """Cancelled while running, and its task has not stopped yet."""
        return self.status == self.CANCELLED and self.finished_at is None

    @property
    def in_progress(self) -> bool:
        return self.cancellable or self.stopping

    def _percent(self, done: int, total: int) -> int:
        if not total:
            return 100 if self.status == self.DONE else 0
        return min(100, done * 100 // total)


class ImportJob(BackgroundJob):
    """One uploaded file imported into a team: its text, what was done, and how to undo it.

    The decoded text stays here (capped by ``IMPORT_MAX_BYTES``) so the preview and the
    Celery task read the same content without a shared filesystem.
    """

    class Status(models.TextChoices):
        PREVIEW = "preview", "Waiting for confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        UNDONE = "undone", "Undone"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=32)
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    content = models.TextField(blank=True)
    # Generic CSV only: {column header: target field}.
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREVIEW)
    # {"create": n, "update": n, "skip": n, "invalid": n, "organizations": n} for the preview,
    # then for the commit.
    counts = models.JSONField(default=dict, blank=True)
    # The preview's plan, made once at upload (and again after a new mapping): the first rows
    # to show, problems first, as small dicts; and the team's contacts it was planned against
    # (``import_team_watermark``), so the preview page plans again only if they changed.
    preview_rows = models.JSONField(default=list, blank=True)
    planned_against = models.CharField(max_length=100, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # CSV (line, reason) of every row not imported; built by the commit.
    error_report = models.TextField(blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["team", "-created_at"], name="importjob_team_created_idx")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress_percent(self) -> int:
        return self._percent(self.processed_rows, self.total_rows)


class ImportPlanBatch(models.Model):
    """The plan of up to ``BATCH_SIZE`` rows of a previewed job, as the preview made it.

    ``rows`` holds one small list per row (``contacts.importing.plan.stored_row``). The commit
    writes these instead of planning the file again while the team's contacts are as they
    were when it was planned (``ImportJob.planned_against``); they are deleted once written.
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="plan_batches")
    number = models.PositiveIntegerField()
    rows = models.JSONField(default=list)

    class Meta:
        ordering = ("job", "number")
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="importplanbatch_unique_number")]

    def __str__(self) -> str:
        return f"{self.job_id}: batch {self.number}"


class ImportedRecord(models.Model):
    """What one import did to one contact or organization: what undo deletes or reverts."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        ORGANIZATION_CREATED = "org_created", "Organization created"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="records")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    line = models.PositiveIntegerField(default=0)
    # An update's way back: {"fields": {attname: value before}, "methods": [ids of the contact
    # methods it added], "tags": [ids of the tags it added]}. Empty for creations.
    reverts = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "action"], name="importedrecord_job_idx")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.action} line {self.line}"


class ImportMapping(models.Model):
    """A user's last column mapping for a generic CSV with these headers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_mappings")
    headers_signature = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "headers_signature"], name="importmapping_unique_per_user")
        ]

    def __str__(self) -> str:
        return self.headers_signature


class ContactRedirect(models.Model):
    """The id of a contact merged into another: ``/contacts/<old_id>/`` leads to ``contact``."""

    old_id = models.PositiveBigIntegerField(unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.old_id} -> {self.contact_id}"


# --- Email: a user's own mailbox, synced over IMAP (contacts/email/imap.py) ----------------


class MailboxConnection(TimestampedModel):
    """A user's IMAP mailbox. The password is a Fernet token (contacts/email/crypto.py), never plain.

    Sync state per folder: the last UID fetched and the folder's UIDVALIDITY (when the server
    changes it, the UIDs mean something else and the folder is read again from the start;
    Message-ID dedupe keeps that idempotent). ``claimed_until`` is the lease of the sync in
    progress, so two workers never sync the same mailbox at once.
    """

    DEFAULT_PORT = 993

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailbox")
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=DEFAULT_PORT)
    # On: IMAPS. Off: STARTTLS on a plain connection. Plain IMAP is never used (contacts/email/imap.py).
    use_ssl = models.BooleanField("use SSL/TLS", default=True)
    username = models.CharField(max_length=320)
    password_encrypted = models.TextField(editable=False)
    sent_folder = models.CharField(max_length=200, blank=True, editable=False)
    uidvalidity_inbox = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid_inbox = models.BigIntegerField(default=0, editable=False)
    uidvalidity_sent = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid_sent = models.BigIntegerField(default=0, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"Mailbox of {self.user_id}"


class EmailUploadJob(BackgroundJob):
    """An .eml/.mbox upload too large to log within the request, logged by a Celery task.

    The file waits in ``data`` (web processes and workers share no filesystem) and is
    emptied as soon as the job is done or failed: it is mail, personal data.
    ``counts`` is the running ``IngestResult.as_dict()`` (contacts/email/ingest.py), saved
    in the transaction of each batch of messages, so the progress page, the summary and
    what is on the timelines agree.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Logging"
        DONE = "done", "Logged"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_upload_jobs")
    # What the upload is about: one contact, an organization's people, or (neither) every
    # contact the uploader sees when the task runs.
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    size = models.PositiveBigIntegerField(default=0)
    data = models.BinaryField(blank=True, editable=False)
    bytes_read = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["created_by", "-created_at"], name="emailupload_user_created_idx")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress_percent(self) -> int:
        return self._percent(self.bytes_read, self.size)
