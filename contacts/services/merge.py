"""Merging two contacts of a team into one.

The survivor takes the field values staff picked side by side, and everything attached to
either contact: contact methods, timeline, tags, and the rows of every other model with a
foreign key to Contact (reminders and any model added later: found through
``Contact._meta``, so a new model is covered without touching this file). Apps whose rows
cannot simply be re-pointed register a ``MergeHook`` (contacts/registry.py). The merged
contact is deleted; its id keeps leading to the survivor (``ContactRedirect``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ForeignObjectRel, ProtectedError
from django.utils import timezone

from contacts.models import (
    OPEN_REMINDER_STATUSES,
    Activity,
    Contact,
    ContactMethod,
    ContactRedirect,
    ImportedRecord,
    Reminder,
)
from contacts.registry import merge_hooks
from contacts.services.reminders import contact_clocks_recompute, reminders_timeline_record
from contacts.services.timeline import activity_record
from socialcrm.audit.services import audit_record

# The fields staff choose between, in the order the merge screen shows them.
MERGE_FIELDS: dict[str, str] = {
    "display_name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "organization": "Organization",
    "title": "Role / title",
    "location": "Location",
    "owner": "Owner",
    "cadence_days": "Keep in touch every (days)",
    "notes": "Notes",
}
SURVIVOR, MERGED = "survivor", "merged"
# Handled here explicitly; import records stay with the job that wrote them (undo skips the gone).
_HANDLED = {ContactMethod, Activity, ContactRedirect, ImportedRecord}


class MergeAuditAction(models.TextChoices):
    CONTACTS_MERGED = "contacts.merged", "Contacts merged"


class MergeError(ValidationError):
    """The two contacts cannot be merged; the message says why."""


def _move_methods(survivor: Contact, merged: Contact) -> None:
    own = {(kind, normalized) for kind, normalized in survivor.methods.values_list("kind", "normalized")}
    primaries = set(survivor.methods.filter(is_primary=True).values_list("kind", flat=True))
    for method in merged.methods.all():
        if (method.kind, method.normalized) in own:
            method.delete()
            continue
        method.contact = survivor
        method.is_primary = method.is_primary and method.kind not in primaries
        primaries.update({method.kind} if method.is_primary else set())
        method.save(update_fields=["contact", "is_primary"])


def _drop_twin_nudges(survivor: Contact, merged: Contact) -> None:
    """Cancel the merged contact's pending nudges of a kind the survivor has pending too.

    ``reminder_one_pending_nudge`` allows one pending keep-in-touch and one awaiting-reply
    nudge per contact; the survivor's is kept (its assignee already works on it). Runs
    before the timeline moves, so the "cancelled" row lands on the survivor's timeline.
    """
    nudge_kinds = (Reminder.Kind.CADENCE, Reminder.Kind.AWAITING_REPLY)
    pending = Reminder.objects.filter(kind__in=nudge_kinds, status__in=OPEN_REMINDER_STATUSES)
    kept = set(pending.filter(contact=survivor).values_list("kind", flat=True))
    twins = list(pending.filter(contact=merged, kind__in=kept).only("id", "contact_id", "kind", "due_at", "note"))
    if twins:
        Reminder.objects.filter(pk__in=[twin.pk for twin in twins]).update(
            status=Reminder.Status.CANCELLED, completed_at=timezone.now(), notify_at=None
        )
        reminders_timeline_record(
            twins, kind=Activity.Kind.SYSTEM, subject="{kind} reminder cancelled: the merged contact has one already"
        )


def _move_activities(survivor: Contact, merged: Contact) -> None:
    # The same email logged on both (one Message-ID) stays once.
    on_survivor = set(survivor.activities.exclude(external_id="").values_list("kind", "external_id"))
    logged = merged.activities.exclude(external_id="").values_list("pk", "kind", "external_id")
    twins = [pk for pk, kind, external_id in logged if (kind, external_id) in on_survivor]
    Activity.objects.filter(pk__in=twins).delete()
    merged.activities.update(contact=survivor)


def _hooked_models() -> set[type[models.Model]]:
    return {model for hook in merge_hooks() for model in hook.models}


def _repoint_related(survivor: Contact, merged: Contact) -> None:
    """Every other row pointing at ``merged`` now points at ``survivor``."""
    skip = _HANDLED | _hooked_models()
    for relation in Contact._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel):
            continue
        model = relation.related_model
        # The hidden foreign key of an automatic many-to-many table: moved with the relation below.
        if model is None or model in skip or model._meta.auto_created:
            continue
        if relation.many_to_many:
            accessor = relation.get_accessor_name()
            if accessor:
                getattr(survivor, accessor).add(*getattr(merged, accessor).all())
            continue
        field_name = relation.field.name
        # The default manager: an app's own guards (an append-only ledger) apply.
        rows = model._default_manager.filter(**{field_name: merged})
        if not rows.exists():
            continue
        try:
            with transaction.atomic():
                rows.update(**{field_name: survivor})
        except Exception as exc:  # an IntegrityError (one row per contact), or an app's refusal
            label = model._meta.verbose_name_plural
            raise MergeError(
                f"The {label} of the two contacts cannot be combined ({exc.__class__.__name__}); nothing was merged."
            ) from exc


def _pick(survivor: Contact, merged: Contact, choices: Mapping[str, str]) -> None:
    for name in MERGE_FIELDS:
        if choices.get(name) == MERGED:
            field = Contact._meta.get_field(name)
            attname = field.attname if isinstance(field, models.Field) else name
            setattr(survivor, attname, getattr(merged, attname))
    if not survivor.display_name.strip():
        survivor.display_name = (
            Contact.compose_display_name(survivor.first_name, survivor.last_name) or merged.display_name
        )
    # The later of the two clocks; a merged record is active if either was.
    for name in ("last_contacted_at", "last_inbound_at", "last_outbound_at"):
        values = [value for value in (getattr(survivor, name), getattr(merged, name)) if value is not None]
        setattr(survivor, name, max(values) if values else None)
    survivor.archived = survivor.archived and merged.archived


@transaction.atomic
def contact_merge(*, actor: Any, survivor: Contact, merged: Contact, choices: Mapping[str, str]) -> Contact:
    """Merge ``merged`` into ``survivor`` (same team) and delete ``merged``; return the survivor.

    ``choices`` maps fields of ``MERGE_FIELDS`` to ``"survivor"`` or ``"merged"`` (the
    survivor's value when missing). Raises ``MergeError`` when the contacts are the same or
    of different teams, or when another app's rows cannot be combined (nothing changes then).
    Pending nudges stay one per kind (the survivor's; the other is cancelled, on the
    timeline), and the keep-in-touch / awaiting-reply clocks are recomputed.
    The merge is recorded on the survivor's timeline and in the audit trail.
    """
    if survivor.pk == merged.pk:
        raise MergeError("Choose two different contacts.")
    if survivor.team_id != merged.team_id:
        raise MergeError("Only contacts of the same team can be merged.")
    # Both rows locked: a concurrent merge of either waits, then finds its contact gone.
    locked = {
        contact.pk: contact for contact in Contact.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])
    }
    if len(locked) != 2:
        raise MergeError("One of the contacts no longer exists.")
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    merged_name, merged_pk = merged.display_name, merged.pk
    _pick(survivor, merged, choices)
    _move_methods(survivor, merged)
    _drop_twin_nudges(survivor, merged)
    _move_activities(survivor, merged)
    survivor.tags.add(*merged.tags.all())
    for hook in merge_hooks():
        hook.merge(survivor, merged)
    _repoint_related(survivor, merged)
    ContactRedirect.objects.filter(contact=merged).update(contact=survivor)
    ContactRedirect.objects.create(old_id=merged_pk, contact=survivor)
    try:
        merged.delete()
    except ProtectedError as exc:
        raise MergeError("Other records still point at the merged contact; nothing was merged.") from exc
    survivor.save()
    # The clocks follow from the combined timeline and nudges: an email of the merged
    # contact still unanswered keeps the survivor waiting for a reply.
    contact_clocks_recompute(contact_id=survivor.pk)
    activity_record(
        contact=survivor,
        kind=Activity.Kind.MERGED,
        actor=actor,
        subject=f"Merged with {merged_name}"[:500],
        source="crm",
        payload={"merged_contact_id": merged_pk, "choices": {k: v for k, v in choices.items() if k in MERGE_FIELDS}},
    )
    audit_record(actor=actor, action=MergeAuditAction.CONTACTS_MERGED, object_type="contact", object_id=survivor.pk)
    return survivor
