"""Look a contact up when it is created or gets a new email, website or handle.

Connected in ``EnrichmentConfig.ready()``. The task is queued through the outbox, so it
runs only after the saving transaction commits, and asks the gate itself at run time.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save

from contacts.models import Contact, ContactMethod
from enrichment.tasks import ENRICH_CONTACT
from socialcrm.models import OutboxMessage
from socialcrm.outbox import enqueue

LOOKUP_KINDS = frozenset({ContactMethod.Kind.EMAIL, ContactMethod.Kind.WEBSITE, ContactMethod.Kind.HANDLE})


def schedule_enrichment(contact_id: int) -> None:
    """Queue one lookup of the contact, unless one is already waiting to be published.

    Creating a contact with an email and a website saves three rows in one transaction;
    the still-unpublished outbox row of the first save stands for all of them.
    """
    if not settings.ENRICHMENT_AUTOMATIC:
        return
    waiting = OutboxMessage.objects.filter(task_name=ENRICH_CONTACT, args=[contact_id], published_at__isnull=True)
    if not waiting.exists():
        enqueue(ENRICH_CONTACT, contact_id)


def contact_saved(sender: type[Contact], instance: Contact, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        schedule_enrichment(instance.pk)


def method_saved(
    sender: type[ContactMethod], instance: ContactMethod, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw and instance.kind in LOOKUP_KINDS:
        schedule_enrichment(instance.contact_id)


def connect() -> None:
    post_save.connect(contact_saved, sender=Contact, dispatch_uid="enrichment.contact_saved")
    post_save.connect(method_saved, sender=ContactMethod, dispatch_uid="enrichment.method_saved")
