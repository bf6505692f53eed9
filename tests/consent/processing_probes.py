"""How to run each processing entry point for one contact, for the gate-consultation test.

Add one probe per function marked ``@processing(purpose=...)``: it calls the entry point
the way production does (a task with the contact's id, an export with a queryset...) for
``contact``. ``test_gate_consultation`` fails for an entry point without a probe, and for
one whose probe ran without the gate being asked about its purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from contacts.models import Contact
from tests.factories import UserFactory


def _due(contact: Any, clock: str) -> None:
    # An owned, active contact whose keep-in-touch / reply clock has run out: a nudge candidate.
    Contact.objects.filter(pk=contact.pk).update(
        owner=UserFactory(), archived=False, **{clock: timezone.now() - timedelta(days=1)}
    )


def _cadence_nudges(contact: Any) -> object:
    from contacts.services.nudges import cadence_nudges_make

    _due(contact, "cadence_due_at")
    return cadence_nudges_make()


def _awaiting_reply_nudges(contact: Any) -> object:
    from contacts.services.nudges import awaiting_reply_nudges_make

    _due(contact, "reply_due_at")
    return awaiting_reply_nudges_make()


def _profile(contact: Any, **fields: Any) -> None:
    # A found profile of the contact: what enrichment's sweeps and listening work on.
    from enrichment.models import SocialProfile

    SocialProfile.objects.update_or_create(
        contact=contact,
        network="fediverse",
        url="https://social.example/@probe",
        defaults={"provider": "fediverse", **fields},
    )


def _enrich_contact(contact: Any) -> object:
    from enrichment.tasks import enrich_contact

    return enrich_contact(contact.pk)


def _refresh_stale_profiles(contact: Any) -> object:
    from enrichment.tasks import refresh_stale_profiles

    _profile(contact, fetched_at=timezone.now() - timedelta(days=60))
    return refresh_stale_profiles()


def _listen_sweep(contact: Any) -> object:
    from enrichment.tasks import listen_sweep

    _profile(contact, status="accepted", feeds=["https://social.example/@probe.rss"])
    return listen_sweep()


def _listen_to_contact(contact: Any) -> object:
    from enrichment.tasks import listen_to_contact

    return listen_to_contact(contact.pk)


def _listen(contact: Any) -> object:
    from enrichment.listening import listen

    return listen(contact)


def _export(contact: Any) -> object:
    from contacts.exporting import contacts_export

    export = contacts_export(
        Contact.objects.filter(pk=contact.pk), fmt="csv", purpose="marketing_email", request=None, actor=None
    )
    return "".join(export.body)


def _export_counts(contact: Any) -> object:
    from contacts.exporting import export_counts

    return export_counts(Contact.objects.filter(pk=contact.pk), purpose="marketing_email")


# "module.qualname" of the entry point -> probe(contact).
PROBES: dict[str, Callable[[Any], object]] = {
    "contacts.services.nudges.cadence_nudges_make": _cadence_nudges,
    "contacts.services.nudges.awaiting_reply_nudges_make": _awaiting_reply_nudges,
    "contacts.exporting.contacts_export": _export,
    "contacts.exporting.export_counts": _export_counts,
    "enrichment.tasks.enrich_contact": _enrich_contact,
    "enrichment.tasks.refresh_stale_profiles": _refresh_stale_profiles,
    "enrichment.tasks.listen_sweep": _listen_sweep,
    "enrichment.tasks.listen_to_contact": _listen_to_contact,
    "enrichment.listening.listen": _listen,
}
