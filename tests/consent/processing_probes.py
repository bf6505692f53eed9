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


# "module.qualname" of the entry point -> probe(contact).
PROBES: dict[str, Callable[[Any], object]] = {
    "contacts.services.nudges.cadence_nudges_make": _cadence_nudges,
    "contacts.services.nudges.awaiting_reply_nudges_make": _awaiting_reply_nudges,
}
