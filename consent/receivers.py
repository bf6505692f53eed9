"""Signal receivers: contacts sends, consent listens (contacts may not import consent)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from consent.gate import clear_purpose_cache
from consent.models import Purpose
from consent.services import mark_suppressed_contacts
from contacts.models import ContactMethod


def _email_saved(sender: type[ContactMethod], instance: ContactMethod, **kwargs: Any) -> None:
    # A contact (re)created with an erased person's email is marked, so the gate refuses it.
    # Bulk imports bypass signals and must call mark_suppressed_contacts themselves.
    if instance.kind == ContactMethod.Kind.EMAIL:
        mark_suppressed_contacts([(instance.contact_id, instance.normalized)])


def connect() -> None:
    post_save.connect(_email_saved, sender=ContactMethod, dispatch_uid="consent.email_saved")
    post_save.connect(clear_purpose_cache, sender=Purpose, dispatch_uid="consent.purpose_saved")
    post_delete.connect(clear_purpose_cache, sender=Purpose, dispatch_uid="consent.purpose_deleted")
