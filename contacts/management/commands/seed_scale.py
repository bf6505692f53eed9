"""Fill the database with a large "Scale team" for benchmarks.

    uv run manage.py seed_scale --contacts 100000 --activities-per-contact 50

On PostgreSQL the rows are generated inside the server (INSERT ... SELECT over
generate_series), which writes millions of rows in minutes; elsewhere (SQLite) they are
bulk-inserted in batches. Each run adds to what is there.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from contacts.models import Activity, Contact, ContactMethod, Organization, Tag
from contacts.services.timeline import INTERACTION_KINDS
from socialcrm.models import Team, User
from socialcrm.roles import Role

SCALE_TEAM = "Scale team"
SCALE_USER = "scale@bench.example"
PEOPLE_PER_ORGANIZATION = 25
HISTORY_DAYS = 540
TAG_NAMES = ("customer", "prospect", "partner", "vip")

FIRST_NAMES = (
    "Ada", "Alan", "Barbara", "Brian", "Carla", "Dennis", "Edsger", "Frances", "Grace", "Hedy", "Ivan", "Joan",
    "Ken", "Linus", "Margaret", "Niklaus", "Olga", "Peter", "Radia", "Sophie", "Tim", "Ursula", "Vint", "Whitfield",
    "Xavier", "Yukihiro", "Zhang", "Anita", "Bjarne", "Donald",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Turing", "Liskov", "Kernighan", "Ritchie", "Dijkstra", "Allen", "Hopper", "Lamarr", "Sutherland",
    "Clarke", "Thompson", "Torvalds", "Hamilton", "Wirth", "Perlman", "Naur", "Wilson", "Berners-Lee", "Franklin",
    "Cerf", "Diffie", "Leroy", "Matsumoto", "Yang", "Borg", "Stroustrup", "Knuth", "Goldberg", "Hoare",
)  # fmt: skip
TITLES = ("Head of Sales", "CTO", "Engineer", "Buyer", "Founder", "Operations lead", "Analyst", "Director")
KINDS = ("email", "email", "email", "call", "meeting", "note")
BODY = (
    "Followed up on the proposal and agreed next steps for the pilot. They asked for pricing tiers, "
    "a security questionnaire and references from similar customers."
)


class Command(BaseCommand):
    help = "Add N contacts with M timeline entries each to the 'Scale team' (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, required=True)
        parser.add_argument("--activities-per-contact", type=int, default=50)
        parser.add_argument("--chunk", type=int, default=10_000, help="Contacts per insert batch.")

    def handle(self, *args: Any, **options: Any) -> None:
        count, per_contact, chunk = options["contacts"], options["activities_per_contact"], options["chunk"]
        started = time.monotonic()
        team, owner = _scale_team()
        organizations = _organizations(team, max(1, count // PEOPLE_PER_ORGANIZATION))
        tags = [Tag.objects.get_or_create(team=team, name=name)[0] for name in TAG_NAMES]
        seed = _seed_postgresql if connection.vendor == "postgresql" else _seed_in_batches
        for start in range(0, count, chunk):
            size = min(chunk, count - start)
            with transaction.atomic():
                seed(team=team, owner=owner, organizations=organizations, tags=tags, size=size, per_contact=per_contact)
            self.stdout.write(f"  {start + size} / {count} contacts ({time.monotonic() - started:.0f} s)")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Every table the pages' plans read (the tag filter's plan depends on contact_tags').
                cursor.execute(
                    "ANALYZE contacts_contact, contacts_activity, contacts_contactmethod, contacts_contact_tags, "
                    "contacts_organization"
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {count} contacts and {count * per_contact} timeline entries to {SCALE_TEAM!r} "
                f"in {time.monotonic() - started:.0f} s; sign in as {SCALE_USER} to browse them."
            )
        )


def _scale_team() -> tuple[Team, User]:
    team, _ = Team.objects.get_or_create(name=SCALE_TEAM)
    owner = User.objects.filter(email=SCALE_USER).first()
    if owner is None:
        # No usable password: the benchmark signs in with force_login; admins may set one.
        owner = User.objects.create_user(SCALE_USER, first_name="Scale", last_name="Tester")
        owner.groups.add(Group.objects.get(name=Role.SALES.value))
    team.members.add(owner)
    return team, owner


def _organizations(team: Team, wanted: int) -> list[int]:
    existing = list(Organization.objects.filter(team=team).order_by("id").values_list("id", flat=True)[:wanted])
    missing = [
        Organization(team=team, name=f"Scale Org {index}", domain=f"org{index}.scale.example")
        for index in range(len(existing), wanted)
    ]
    return existing + [organization.pk for organization in Organization.objects.bulk_create(missing)]


def _seed_postgresql(
    *, team: Team, owner: User, organizations: list[int], tags: list[Tag], size: int, per_contact: int
) -> None:
    """Generate one batch of contacts, their emails, tags and timelines inside PostgreSQL."""
    with connection.cursor() as cursor:
        since = Contact.objects.aggregate(last=Max("id"))["last"] or 0
        cursor.execute(
            """
            INSERT INTO contacts_contact (team_id, owner_id, first_name, last_name, display_name, organization_id,
                title, location, notes, archived, created_at, updated_at)
            SELECT %(team)s, %(owner)s, n.first, n.last, n.first || ' ' || n.last,
                (%(orgs)s::bigint[])[1 + floor(random() * %(org_count)s)::int],
                (%(titles)s::text[])[1 + floor(random() * %(title_count)s)::int], '', '', false, now(), now()
            FROM generate_series(1, %(size)s) g,
            LATERAL (SELECT (%(first)s::text[])[1 + floor(random() * %(first_count)s + g * 0)::int] AS first,
                            (%(last)s::text[])[1 + floor(random() * %(last_count)s + g * 0)::int] AS last) n
            """,
            {
                "team": team.pk,
                "owner": owner.pk,
                "orgs": organizations,
                "org_count": len(organizations),
                "titles": list(TITLES),
                "title_count": len(TITLES),
                "first": list(FIRST_NAMES),
                "first_count": len(FIRST_NAMES),
                "last": list(LAST_NAMES),
                "last_count": len(LAST_NAMES),
                "size": size,
            },
        )
        batch = {"team": team.pk, "since": since}
        cursor.execute(
            """
            INSERT INTO contacts_contactmethod (contact_id, team_id, kind, value, normalized, label, is_primary)
            SELECT id, team_id, 'email', e.address, e.address, 'work', true
            FROM contacts_contact,
            LATERAL (SELECT regexp_replace(lower(first_name || '.' || last_name), '[^a-z.]', '', 'g')
                            || '.' || id || '@scale.example' AS address) e
            WHERE team_id = %(team)s AND id > %(since)s
            """,
            batch,
        )
        cursor.execute(
            """
            INSERT INTO contacts_contact_tags (contact_id, tag_id)
            SELECT id, (%(tags)s::bigint[])[1 + mod(id, %(tag_count)s)::int]
            FROM contacts_contact WHERE team_id = %(team)s AND id > %(since)s AND mod(id, 5) = 0
            """,
            {**batch, "tags": [tag.pk for tag in tags], "tag_count": len(tags)},
        )
        cursor.execute(
            """
            INSERT INTO contacts_activity (contact_id, occurred_at, kind, actor_id, direction, subject, body,
                body_html, source, external_id, thread_key, payload, created_at)
            SELECT contact_id, at, kind,
                CASE WHEN kind = 'email' AND inbound THEN NULL ELSE %(owner)s END,
                CASE WHEN kind IN ('email', 'call') THEN (CASE WHEN inbound THEN 'in' ELSE 'out' END) ELSE '' END,
                initcap(kind) || ' #' || n, %(body)s, '', 'seed', '', '', '{}'::jsonb, at
            FROM (
                SELECT c.id AS contact_id, g AS n,
                    now() - random() * %(days)s * interval '1 day' AS at,
                    (%(kinds)s::text[])[1 + floor(random() * %(kind_count)s)::int] AS kind,
                    random() < 0.5 AS inbound
                FROM contacts_contact c CROSS JOIN generate_series(1, %(per_contact)s) g
                WHERE c.team_id = %(team)s AND c.id > %(since)s
            ) generated
            """,
            {
                **batch,
                "owner": owner.pk,
                "body": BODY,
                "days": HISTORY_DAYS,
                "kinds": list(KINDS),
                "kind_count": len(KINDS),
                "per_contact": per_contact,
            },
        )
        cursor.execute(
            """
            UPDATE contacts_contact c SET last_contacted_at = a.last_at, last_inbound_at = a.last_in,
                last_outbound_at = a.last_out
            FROM (
                SELECT contact_id, max(occurred_at) AS last_at,
                    max(occurred_at) FILTER (WHERE direction = 'in') AS last_in,
                    max(occurred_at) FILTER (WHERE direction = 'out') AS last_out
                FROM contacts_activity
                WHERE contact_id > %(since)s AND kind = ANY(%(interactions)s)
                GROUP BY contact_id
            ) a
            WHERE c.id = a.contact_id AND c.team_id = %(team)s
            """,
            {**batch, "interactions": [str(kind) for kind in INTERACTION_KINDS]},
        )


def _seed_in_batches(
    *, team: Team, owner: User, organizations: list[int], tags: list[Tag], size: int, per_contact: int
) -> None:
    """The same rows through the ORM's bulk inserts, for databases without generate_series."""
    rng = random.Random()  # noqa: S311 - filler data
    now = timezone.now()
    contacts = []
    for _ in range(size):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        contacts.append(
            Contact(
                team=team,
                owner=owner,
                first_name=first,
                last_name=last,
                display_name=f"{first} {last}",
                organization_id=rng.choice(organizations),
                title=rng.choice(TITLES),
            )
        )
    contacts = Contact.objects.bulk_create(contacts, batch_size=500)
    ContactMethod.objects.bulk_create(
        [
            ContactMethod(
                contact=contact,
                team=team,
                kind=ContactMethod.Kind.EMAIL,
                value=f"{contact.first_name}.{contact.last_name}.{contact.pk}@scale.example".lower(),
                normalized=f"{contact.first_name}.{contact.last_name}.{contact.pk}@scale.example".lower(),
                label="work",
                is_primary=True,
            )
            for contact in contacts
        ],
        batch_size=500,
    )
    Contact.tags.through.objects.bulk_create(
        [
            Contact.tags.through(contact_id=contact.pk, tag_id=tags[contact.pk % len(tags)].pk)
            for contact in contacts
            if contact.pk % 5 == 0
        ]
    )
    activities = []
    for contact in contacts:
        for number in range(1, per_contact + 1):
            kind = rng.choice(KINDS)
            inbound = rng.random() < 0.5
            occurred_at = now - timedelta(seconds=rng.randint(0, HISTORY_DAYS * 86_400))
            activities.append(
                Activity(
                    contact=contact,
                    occurred_at=occurred_at,
                    kind=kind,
                    actor=None if kind == "email" and inbound else owner,
                    direction=("in" if inbound else "out") if kind in ("email", "call") else "",
                    subject=f"{kind.title()} #{number}",
                    body=BODY,
                    source="seed",
                )
            )
        interactions = [activity for activity in activities[-per_contact:] if activity.kind in INTERACTION_KINDS]
        contact.last_contacted_at = max((a.occurred_at for a in interactions), default=None)
        contact.last_inbound_at = max((a.occurred_at for a in interactions if a.direction == "in"), default=None)
        contact.last_outbound_at = max((a.occurred_at for a in interactions if a.direction == "out"), default=None)
    Activity.objects.bulk_create(activities, batch_size=1000)
    Contact.objects.bulk_update(contacts, ["last_contacted_at", "last_inbound_at", "last_outbound_at"], batch_size=500)
