"""Demo data for ``manage.py demo``: ~200 people across ~40 organizations with 18 months of timeline.

Generated from a fixed seed, so every demo looks the same; written with bulk inserts, so it
takes about a second; skipped when the demo team already has contacts, so running the demo
twice does not duplicate anything.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from contacts.models import Activity, Contact, ContactMethod, Organization, Tag
from contacts.normalize import normalize_email, normalize_phone
from contacts.services.timeline import INTERACTION_KINDS, MANUAL_SOURCE, sanitize_html

if TYPE_CHECKING:
    from faker import Faker

    from socialcrm.registry import DemoContext

SEED = 20_240_601
ORGANIZATIONS = 40
CONTACTS = 200
HISTORY = timedelta(days=548)  # about 18 months
TAGS = ("customer", "prospect", "partner", "investor", "press", "vip")

_TOPICS = (
    "pilot rollout",
    "renewal",
    "pricing",
    "security review",
    "integration",
    "quarterly review",
    "onboarding",
    "conference follow-up",
    "support escalation",
    "roadmap",
)


@dataclass
class _Generator:
    fake: Faker
    rng: random.Random
    now: datetime
    counter: int = 0

    def when(self) -> datetime:
        return self.now - timedelta(seconds=self.rng.randint(600, int(HISTORY.total_seconds())))

    def email(self, contact: Contact, owner: Any, occurred_at: datetime) -> Activity:
        self.counter += 1
        topic = self.rng.choice(_TOPICS)
        inbound = self.rng.random() < 0.45
        body = self.fake.paragraph(nb_sentences=self.rng.randint(2, 6))
        html = f"<p>{body}</p><p>Best,<br>{owner if not inbound else contact.first_name}</p>"
        return Activity(
            contact=contact,
            occurred_at=occurred_at,
            kind=Activity.Kind.EMAIL,
            actor=None if inbound else owner,
            direction=Activity.Direction.INBOUND if inbound else Activity.Direction.OUTBOUND,
            subject=("Re: " if self.rng.random() < 0.4 else "") + topic.capitalize(),
            body=body,
            body_html=sanitize_html(html),
            source="email",
            external_id=f"<demo-{self.counter}@mail.demo.example>",
            thread_key=f"demo-{contact.pk}-{slugify(topic)}",
        )

    def logged(self, contact: Contact, owner: Any, occurred_at: datetime) -> Activity:
        kind = self.rng.choices((Activity.Kind.CALL, Activity.Kind.MEETING, Activity.Kind.NOTE), (4, 3, 3))[0]
        topic = self.rng.choice(_TOPICS)
        direction = ""
        if kind == Activity.Kind.CALL:
            direction = self.rng.choice((Activity.Direction.INBOUND, Activity.Direction.OUTBOUND))
        subject = {
            Activity.Kind.CALL: f"Call about {topic}",
            Activity.Kind.MEETING: f"Meeting: {topic}",
            Activity.Kind.NOTE: "",
        }[kind]
        return Activity(
            contact=contact,
            occurred_at=occurred_at,
            kind=kind,
            actor=owner,
            direction=direction,
            subject=subject,
            body=self.fake.paragraph(nb_sentences=self.rng.randint(1, 4)),
            source=MANUAL_SOURCE,
        )


def _organizations(gen: _Generator, team: Any) -> list[Organization]:
    names: list[str] = []
    while len(names) < ORGANIZATIONS:
        name = gen.fake.company()
        if name not in names:
            names.append(name)
    organizations = []
    for name in names:
        # .example domains: the demo never points at a real company's site or mailbox.
        domain = f"{slugify(name)[:40].strip('-')}.example"
        organizations.append(Organization(team=team, name=name, domain=domain, website=f"https://www.{domain}/"))
    return Organization.objects.bulk_create(organizations)


def _contacts(gen: _Generator, context: DemoContext, organizations: list[Organization]) -> list[Contact]:
    contacts = []
    for index in range(CONTACTS):
        first_name, last_name = gen.fake.first_name(), gen.fake.last_name()
        # Most people belong to an organization; a few are independent.
        organization = organizations[index % ORGANIZATIONS] if gen.rng.random() < 0.9 else None
        contacts.append(
            Contact(
                team=context.team,
                owner=context.sales if gen.rng.random() < 0.8 else context.manager,
                first_name=first_name,
                last_name=last_name,
                display_name=Contact.compose_display_name(first_name, last_name),
                organization=organization,
                title=gen.fake.job()[:200],
                location=gen.fake.city(),
                cadence_days=gen.rng.choice((None, None, 14, 30, 90)),
                created_at=gen.now - HISTORY - timedelta(days=gen.rng.randint(1, 90)),
            )
        )
    return Contact.objects.bulk_create(contacts)


def _methods(gen: _Generator, contacts: list[Contact]) -> None:
    methods = []
    for contact in contacts:
        domain = contact.organization.domain if contact.organization else "mail.demo.example"
        address = f"{slugify(contact.first_name)}.{slugify(contact.last_name)}.{contact.pk}@{domain}"
        methods.append(
            ContactMethod(
                contact=contact,
                team_id=contact.team_id,
                kind=ContactMethod.Kind.EMAIL,
                value=address,
                normalized=normalize_email(address),
                label="work",
                is_primary=True,
            )
        )
        if gen.rng.random() < 0.6:
            # Ofcom's drama range (020 7946 0xxx) is reserved for fiction.
            phone = f"+44 20 7946 0{gen.rng.randint(0, 999):03d}"
            methods.append(
                ContactMethod(
                    contact=contact,
                    team_id=contact.team_id,
                    kind=ContactMethod.Kind.PHONE,
                    value=phone,
                    normalized=normalize_phone(phone),
                    label="mobile",
                )
            )
    ContactMethod.objects.bulk_create(methods)


def _latest(activities: list[Activity], direction: str | None = None) -> datetime | None:
    times = [
        activity.occurred_at
        for activity in activities
        if activity.kind in INTERACTION_KINDS and (direction is None or activity.direction == direction)
    ]
    return max(times, default=None)


def _timelines(gen: _Generator, context: DemoContext, contacts: list[Contact]) -> int:
    activities: list[Activity] = []
    for contact in contacts:
        owner = context.sales if contact.owner_id == context.sales.pk else context.manager
        # A few close relationships with long histories, most with a handful of exchanges.
        size = min(int(gen.rng.paretovariate(1.2) * 4), 60)
        own = [(gen.email if gen.rng.random() < 0.55 else gen.logged)(contact, owner, gen.when()) for _ in range(size)]
        contact.last_contacted_at = _latest(own)
        contact.last_inbound_at = _latest(own, Activity.Direction.INBOUND)
        contact.last_outbound_at = _latest(own, Activity.Direction.OUTBOUND)
        activities += own
    Activity.objects.bulk_create(activities, batch_size=1000)
    Contact.objects.bulk_update(contacts, ["last_contacted_at", "last_inbound_at", "last_outbound_at"], batch_size=500)
    return len(activities)


@transaction.atomic
def load_demo_contacts(context: DemoContext) -> None:
    """The demo team's people, organizations, tags and timelines (once)."""
    if Contact.objects.filter(team=context.team).exists():
        context.say("  the demo team already has contacts; left as they are.")
        return
    # Faker is a development dependency (with factory-boy): the demo runs from a checkout.
    from faker import Faker

    fake = Faker("en_GB")
    fake.seed_instance(SEED)
    gen = _Generator(fake=fake, rng=random.Random(SEED), now=timezone.now())  # noqa: S311 - demo data
    tags = Tag.objects.bulk_create([Tag(team=context.team, name=name) for name in TAGS])
    organizations = _organizations(gen, context.team)
    contacts = _contacts(gen, context, organizations)
    _methods(gen, contacts)
    Contact.tags.through.objects.bulk_create(
        [
            Contact.tags.through(contact_id=contact.pk, tag_id=tag.pk)
            for contact in contacts
            for tag in gen.rng.sample(tags, gen.rng.randint(0, 2))
        ]
    )
    count = _timelines(gen, context, contacts)
    # bulk_create stamps created_at with now; old entries were not "just logged" (and so are
    # past the quick log's edit window).
    Activity.objects.filter(contact__team=context.team).update(created_at=F("occurred_at"))
    context.say(f"  {len(contacts)} contacts, {len(organizations)} organizations, {count} timeline entries")
