"""Writing the timeline: the one way every app adds a row to a contact's activity stream."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import nh3
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from contacts.models import Activity, Contact
from contacts.services import reminders
from socialcrm.bulk import rows_update

# The kinds that count as talking to the person: they move "last contacted".
INTERACTION_KINDS = frozenset({Activity.Kind.EMAIL, Activity.Kind.CALL, Activity.Kind.MEETING})
# Rows per INSERT of a bulk recording (big emails make big statements).
BULK_BATCH = 1000


def sanitize_html(html: str) -> str:
    """Untrusted HTML (email bodies) reduced to inert markup.

    nh3 drops scripts, event handlers, styles and non-http(s) links; links get
    ``rel="noopener nofollow noreferrer"``; images are dropped so no remote content loads
    when a timeline is opened (it would tell the sender who read the mail, and when).
    """
    return nh3.clean(
        html,
        tags=nh3.ALLOWED_TAGS - {"img"},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow noreferrer",
    )


def _latest(field: str, occurred_at: datetime) -> Greatest:
    # COALESCE first: SQLite's MAX() of NULL and a value is NULL.
    return Greatest(Coalesce(F(field), occurred_at), occurred_at)


def _touch_last_contacted(contact: Contact, occurred_at: datetime, direction: str) -> None:
    updates: dict[str, Any] = {"last_contacted_at": _latest("last_contacted_at", occurred_at)}
    if direction == Activity.Direction.INBOUND:
        updates["last_inbound_at"] = _latest("last_inbound_at", occurred_at)
    elif direction == Activity.Direction.OUTBOUND:
        updates["last_outbound_at"] = _latest("last_outbound_at", occurred_at)
    Contact.objects.filter(pk=contact.pk).update(**updates)


@transaction.atomic
def activity_record(
    *,
    contact: Contact,
    kind: str,
    actor: Any = None,
    occurred_at: datetime | None = None,
    direction: str = "",
    subject: str = "",
    body: str = "",
    body_html: str = "",
    source: str = "",
    external_id: str = "",
    thread_key: str = "",
    payload: dict[str, Any] | None = None,
) -> tuple[Activity, bool]:
    """Add one timeline row; return ``(activity, created)``.

    Idempotent on ``external_id`` (e.g. an email's Message-ID): recording the same
    thing twice for a contact returns the existing row. ``body_html`` is sanitized
    here, so callers may pass raw HTML. Interactions (email, call, meeting) update the
    contact's last contacted / inbound / outbound times.
    """
    if external_id:
        existing = Activity.objects.filter(contact=contact, kind=kind, external_id=external_id).first()
        if existing is not None:
            return existing, False
    activity = Activity(
        contact=contact,
        kind=kind,
        actor=actor,
        occurred_at=occurred_at or timezone.now(),
        direction=direction,
        subject=subject[:500],
        body=body,
        body_html=sanitize_html(body_html) if body_html else "",
        source=source,
        external_id=external_id,
        thread_key=thread_key,
        payload=payload or {},
    )
    try:
        with transaction.atomic():
            activity.save()
    except IntegrityError:
        if not external_id:
            raise
        # A concurrent writer recorded the same external id first.
        return Activity.objects.get(contact=contact, kind=kind, external_id=external_id), False
    if kind in INTERACTION_KINDS:
        _touch_last_contacted(contact, activity.occurred_at, direction)
        # Talking to the person resets the keep-in-touch / awaiting-reply clocks and closes their nudges.
        reminders.interaction_recorded(
            contact_id=contact.pk, occurred_at=activity.occurred_at, direction=direction, kind=kind
        )
    return activity, True


def _touch_many(interactions: list[Activity]) -> None:
    # Each contact's newest interaction per field, then one UPDATE for all of them (per 1,000).
    newest: dict[int, dict[str, datetime]] = {}
    for activity in interactions:
        fields = newest.setdefault(activity.contact_id, {})
        names = ["last_contacted_at"]
        if activity.direction == Activity.Direction.INBOUND:
            names.append("last_inbound_at")
        elif activity.direction == Activity.Direction.OUTBOUND:
            names.append("last_outbound_at")
        for name in names:
            if name not in fields or activity.occurred_at > fields[name]:
                fields[name] = activity.occurred_at
    rows_update(Contact, newest, keep_latest=True)


@transaction.atomic
def activity_record_many(activities: list[Activity]) -> list[Activity]:
    """Add many timeline rows at once (bulk imports such as an mbox); return those created.

    The batch form of ``activity_record``, with its guarantees: ``activities`` are unsaved
    rows; ``body_html`` is sanitized; a row whose (contact, kind, external_id) exists, or
    comes twice in the batch, is skipped; interactions move each contact's last contacted /
    inbound / outbound times, and its reminder clocks once, for its newest entry. A constant
    number of statements (per 1,000 rows or contacts), whatever the number of contacts.
    """
    keyed = [activity for activity in activities if activity.external_id]
    seen: set[tuple[int, str, str]] = set()
    if keyed:
        seen = set(
            Activity.objects.filter(
                contact_id__in={activity.contact_id for activity in keyed},
                kind__in={activity.kind for activity in keyed},
                external_id__in={activity.external_id for activity in keyed},
            )
            .order_by()
            .values_list("contact_id", "kind", "external_id")
        )
    fresh: list[Activity] = []
    for activity in activities:
        key = (activity.contact_id, activity.kind, activity.external_id)
        if activity.external_id and key in seen:
            continue
        seen.add(key)
        activity.occurred_at = activity.occurred_at or timezone.now()
        activity.subject = activity.subject[:500]
        activity.body_html = sanitize_html(activity.body_html) if activity.body_html else ""
        activity.payload = activity.payload or {}
        fresh.append(activity)
    try:
        with transaction.atomic():
            Activity.objects.bulk_create(fresh, batch_size=BULK_BATCH)
    except IntegrityError:
        # A concurrent writer recorded some of them first: one by one, each idempotent.
        return [activity for activity in fresh if _record_one(activity)]
    interactions = [activity for activity in fresh if activity.kind in INTERACTION_KINDS]
    if interactions:
        _touch_many(interactions)
        newest: dict[int, Activity] = {}
        for activity in interactions:
            if activity.contact_id not in newest or activity.occurred_at > newest[activity.contact_id].occurred_at:
                newest[activity.contact_id] = activity
        reminders.interactions_recorded(
            reminders.Interaction(activity.contact_id, activity.occurred_at, activity.direction, activity.kind)
            for activity in newest.values()
        )
    return fresh


def _record_one(activity: Activity) -> bool:
    recorded, created = activity_record(
        contact=activity.contact,
        kind=activity.kind,
        actor=activity.actor,
        occurred_at=activity.occurred_at,
        direction=activity.direction,
        subject=activity.subject,
        body=activity.body,
        body_html=activity.body_html,
        source=activity.source,
        external_id=activity.external_id,
        thread_key=activity.thread_key,
        payload=activity.payload,
    )
    activity.pk = recorded.pk
    return created


# --- Hand-logged entries (the quick log on the contact page) ------------------------------

# What staff may log by hand, and how long they may still correct or remove their entry.
QUICK_LOG_KINDS = (Activity.Kind.CALL, Activity.Kind.MEETING, Activity.Kind.NOTE, Activity.Kind.EMAIL)
MANUAL_SOURCE = "manual"
EDIT_WINDOW = timedelta(hours=24)


def activity_can_edit(*, actor: Any, activity: Activity, now: datetime | None = None) -> bool:
    """Only the author of a hand-logged entry may change it, and only within ``EDIT_WINDOW``."""
    return (
        actor.is_authenticated
        and activity.actor_id == actor.pk
        and activity.source == MANUAL_SOURCE
        and activity.kind in QUICK_LOG_KINDS
        and (now or timezone.now()) - activity.created_at <= EDIT_WINDOW
    )


def _recompute_last_contacted(contact_id: int) -> None:
    # An edit can move an interaction back in time and a delete can remove the newest one,
    # so the derived times are recomputed from the timeline rather than adjusted.
    interactions = Activity.objects.filter(contact_id=contact_id, kind__in=INTERACTION_KINDS).order_by("-occurred_at")
    Contact.objects.filter(pk=contact_id).update(
        last_contacted_at=Subquery(interactions.values("occurred_at")[:1]),
        last_inbound_at=Subquery(interactions.filter(direction=Activity.Direction.INBOUND).values("occurred_at")[:1]),
        last_outbound_at=Subquery(interactions.filter(direction=Activity.Direction.OUTBOUND).values("occurred_at")[:1]),
    )
    # The keep-in-touch and awaiting-reply clocks follow from the same times.
    reminders.contact_clocks_recompute(contact_id=contact_id)


@transaction.atomic
def activity_update(
    *, actor: Any, activity: Activity, occurred_at: datetime, direction: str = "", subject: str = "", body: str = ""
) -> Activity:
    """Correct a hand-logged entry; PermissionDenied unless ``activity_can_edit``."""
    if not activity_can_edit(actor=actor, activity=activity):
        raise PermissionDenied("Only the author can change this entry, within 24 hours of logging it.")
    activity.occurred_at = occurred_at
    activity.direction = direction
    activity.subject = subject[:500]
    activity.body = body
    activity.save(update_fields=["occurred_at", "direction", "subject", "body"])
    _recompute_last_contacted(activity.contact_id)
    return activity


@transaction.atomic
def activity_delete(*, actor: Any, activity: Activity) -> None:
    """Remove a hand-logged entry; PermissionDenied unless ``activity_can_edit``."""
    if not activity_can_edit(actor=actor, activity=activity):
        raise PermissionDenied("Only the author can delete this entry, within 24 hours of logging it.")
    contact_id = activity.contact_id
    activity.delete()
    _recompute_last_contacted(contact_id)
