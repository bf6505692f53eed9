"""Enrichment's Celery tasks (queue ``enrichment``, routed by name in settings).

Every task asks the processing gate at run time, for each contact, before any outbound
request: consent can change between enqueue and run. Tasks are idempotent (upserts, dedupe
by guid), so the outbox delivering a message twice does no harm.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contacts.models import Contact
from contacts.registry import gate_allowed_ids, gate_allows, processing
from enrichment import listening, pipeline, resilience, services
from enrichment.models import SocialProfile
from socialcrm.outbox import enqueue

ENRICH_CONTACT = "enrichment.tasks.enrich_contact"
LISTEN_TO_CONTACT = "enrichment.tasks.listen_to_contact"
SWEEP_BATCH = 500


@shared_task(bind=True, max_retries=None, acks_late=True)
@processing(purpose="enrichment")
def enrich_contact(
    self: Task, contact_id: int, force: bool = False, only: list[str] | None = None, attempt: int = 0
) -> dict[str, Any]:
    """Look the contact up with every provider it may be looked up with, and store what is found.

    Denied by the gate or suppressed: no request at all. Transient failures are retried for
    just the providers that failed, with exponential backoff and jitter (at least the
    provider's Retry-After), up to ``ENRICHMENT_MAX_RETRIES`` times; 404s are not retried.
    """
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        return {"status": "gone"}
    try:
        decision = gate_allows(contact, "enrichment")
        if not decision.allowed:
            return {"status": "denied", "reason": decision.reason}
        subject = pipeline.subject_for(contact)
        if pipeline.is_suppressed(subject):
            return {"status": "suppressed"}
        plan = pipeline.plan(contact, subject, force=force, only=only)
        outcomes = pipeline.ask_providers(plan.ask, subject)
        result = pipeline.record(contact, plan.key, outcomes)
    finally:
        services.lookup_finished(contact_id=contact_id)
    if result.retry and attempt < settings.ENRICHMENT_MAX_RETRIES:
        countdown = resilience.retry_delay(attempt, max(result.retry.values()))
        raise self.retry(
            args=(contact_id,),
            kwargs={"force": True, "only": sorted(result.retry), "attempt": attempt + 1},
            countdown=countdown,
        )
    return {
        "status": "done",
        "asked": [p.name for p in plan.ask],
        "skipped": plan.skipped,
        "created": result.created,
        "retry": sorted(result.retry),
    }


@shared_task
@processing(purpose="enrichment")
def refresh_stale_profiles(limit: int = SWEEP_BATCH) -> dict[str, int]:
    """Beat: delete expired profiles; re-enrich contacts whose profiles are due for a refresh.

    Contacts are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` on their newest profile
    and their profiles' ``fetched_at`` is pushed forward as the claim, so two beat ticks (or
    two workers) never queue the same contact twice. Only contacts the gate still allows are
    queued; the others' profiles age out.
    """
    removed = services.profiles_remove_expired()
    cutoff = timezone.now() - timedelta(days=settings.ENRICHMENT_REFRESH_DAYS)
    queued = 0
    with transaction.atomic():
        stale = list(
            SocialProfile.objects.select_for_update(skip_locked=True)
            .filter(fetched_at__lt=cutoff, is_demo=False)
            .exclude(status=SocialProfile.Status.REJECTED)
            .order_by("fetched_at")
            .values_list("pk", "contact_id")[:limit]
        )
        # One gate query per 1,000 contacts, not one per contact; a contact gone meanwhile is not allowed.
        for contact_id in sorted(gate_allowed_ids({contact_id for _, contact_id in stale}, "enrichment")):
            enqueue(ENRICH_CONTACT, contact_id, True)
            queued += 1
        # The claim: they are not stale again until the run refreshes them (or they expire).
        SocialProfile.objects.filter(pk__in=[pk for pk, _ in stale]).update(fetched_at=cutoff + timedelta(hours=1))
    return {"removed": removed, "queued": queued}


@shared_task(acks_late=True)
@processing(purpose="social_listening")
def listen_to_contact(contact_id: int) -> dict[str, int]:
    """Read the feeds of the contact's accepted profiles (the gate is asked inside)."""
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        return {"posts": 0}
    return {"posts": listening.listen(contact)}


@shared_task
@processing(purpose="social_listening")
def listen_sweep(limit: int = SWEEP_BATCH) -> int:
    """Beat: queue listening for contacts with accepted, feed-bearing profiles not read lately.

    Claimed with ``SKIP LOCKED``; ``listened_at`` is set as the claim. Contacts the gate
    does not allow listening to are not queued.
    """
    due = timezone.now() - timedelta(minutes=settings.ENRICHMENT_LISTENING_MINUTES)
    with transaction.atomic():
        claimed = list(
            SocialProfile.objects.select_for_update(skip_locked=True)
            .filter(status=SocialProfile.Status.ACCEPTED)
            .exclude(feeds=[])
            .exclude(listened_at__gt=due)
            .order_by("listened_at")
            .values_list("pk", "contact_id")[:limit]
        )
        SocialProfile.objects.filter(pk__in=[pk for pk, _ in claimed]).update(listened_at=timezone.now())
        queued = 0
        for contact_id in sorted(gate_allowed_ids({contact_id for _, contact_id in claimed}, "social_listening")):
            enqueue(LISTEN_TO_CONTACT, contact_id)
            queued += 1
    return queued
