"""Demo data: the sample email thread (contacts/demo_data/email/) logged on a demo contact."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction

from contacts.email.ingest import Source, email_ingest
from contacts.email.parse import parse_message
from contacts.models import Contact, ContactMethod, TeamSettings
from contacts.normalize import normalize_email

if TYPE_CHECKING:
    from socialcrm.registry import DemoContext

SAMPLES = Path(__file__).resolve().parents[1] / "demo_data" / "email"
# The salesperson of the sample thread writes from this domain: the demo team's own.
OUR_DOMAIN = "ourco.example"


@transaction.atomic
def load_demo_email(context: DemoContext) -> None:
    """Log the sample thread on the demo team (its contact created once; the thread deduplicated)."""
    raw_messages = [path.read_bytes() for path in sorted(SAMPLES.glob("*.eml"))]
    reply = parse_message(raw_messages[1])  # thread_2.eml: written by the contact
    assert reply.sender is not None  # noqa: S101 - a fixed sample file
    settings, _ = TeamSettings.objects.get_or_create(team=context.team)
    if OUR_DOMAIN not in settings.own_domains:
        settings.own_domains = [*settings.own_domains, OUR_DOMAIN]
        settings.save(update_fields=["own_domains"])
    address = normalize_email(reply.sender.email)
    if not ContactMethod.objects.filter(team=context.team, kind=ContactMethod.Kind.EMAIL, normalized=address).exists():
        last, _, first = reply.sender.name.partition(", ")  # "Okafor, Amara"
        contact = Contact.objects.create(
            team=context.team,
            owner=context.sales,
            first_name=first,
            last_name=last,
            display_name=Contact.compose_display_name(first, last),
            title="Head of Operations",
        )
        ContactMethod.objects.create(
            contact=contact,
            team=context.team,
            kind=ContactMethod.Kind.EMAIL,
            value=reply.sender.email,
            normalized=address,
            is_primary=True,
        )
    result = email_ingest(
        actor=context.sales,
        source=Source.UPLOAD,
        raw_messages=raw_messages,
        contacts=Contact.objects.filter(team=context.team),
    )
    context.say(f"  email thread: {result.entries_created} new entries, {result.already_logged} already there")
