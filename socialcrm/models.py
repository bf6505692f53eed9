from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core import signing
from django.db import models
from django.utils import timezone


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("Users are identified by their email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A member of staff. Signs in with an email address; there are no usernames."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ("email",)

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Team(TimestampedModel):
    """A sales team. Contacts belong to a team; managers see their teams' work."""

    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    managers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="managed_teams", blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


_INVITATION_SALT = "socialcrm.invitation"


class Invitation(TimestampedModel):
    """An emailed invitation to join.

    The link carries a signed, expiring token of the invitation's id, so no secret is
    stored: a leaked database row cannot be turned into a working link.
    """

    VALID_FOR = timedelta(days=7)

    email = models.EmailField()
    role = models.CharField(max_length=64)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    expires_at = models.DateTimeField()
    # Set when the email went out, so a task that runs twice sends it once.
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def token(self) -> str:
        return signing.dumps(self.pk, salt=_INVITATION_SALT)

    @classmethod
    def from_token(cls, token: str) -> Invitation | None:
        """The invitation a link's token names, or None if it is forged or too old."""
        try:
            pk = signing.loads(token, salt=_INVITATION_SALT, max_age=cls.VALID_FOR)
        except signing.BadSignature:
            return None
        return cls.objects.select_related("team").filter(pk=pk).first()

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class OutboxMessage(models.Model):
    """A task to publish to the broker, written in the same transaction as the change.

    Published right after commit; if the broker is unreachable the row stays and the
    periodic relay publishes it later, so no work is lost while Redis is down.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_unpublished_idx",
                condition=models.Q(published_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name} ({'published' if self.published_at else 'pending'})"
