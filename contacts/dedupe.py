"""Finding likely duplicate contacts, and where merged contacts went.

Suggestions pair two active contacts of the same team that share a phone number (E.164),
an email address but for a ``+tag`` (``ann+crm@x`` and ``ann@x``; exact duplicates cannot
exist, emails being unique per team), or have similar names in the same organization:
trigram similarity on PostgreSQL (pg_trgm, installed by migration 0002), a plain sequence
ratio elsewhere. A fixed number of queries whatever the team's size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from django.db import connection
from django.db.models import Count, Q

from contacts.models import Contact, ContactMethod, ContactRedirect
from contacts.selectors import visible_contacts, visible_team_ids

# pg_trgm similarity (0..1) from which two names in one organization look like one person.
NAME_SIMILARITY = 0.5
# The same, for the sequence ratio of the fallback (stricter: it is more generous).
NAME_RATIO = 0.8
SUGGESTIONS = 100

Pair = tuple[int, int]


@dataclass
class Suggestion:
    first: Contact
    second: Contact
    reasons: list[str] = field(default_factory=list)


def _pair(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


def _team_filter(team_ids: list[int] | None, prefix: str = "") -> Q:
    return Q() if team_ids is None else Q(**{f"{prefix}team_id__in": team_ids})


def _pairs_sharing(rows: list[tuple[Any, int]]) -> set[Pair]:
    """Pairs of contact ids that share a key; rows are (key, contact_id)."""
    groups: dict[Any, set[int]] = defaultdict(set)
    for key, contact_id in rows:
        groups[key].add(contact_id)
    pairs: set[Pair] = set()
    for ids in groups.values():
        ordered = sorted(ids)
        pairs.update(_pair(a, b) for index, a in enumerate(ordered) for b in ordered[index + 1 :])
    return pairs


def _active_methods(team_ids: list[int] | None, kind: str) -> Any:
    return ContactMethod.objects.filter(_team_filter(team_ids), kind=kind, contact__archived=False)


def _shared_phones(team_ids: list[int] | None) -> set[Pair]:
    """One query: phone methods whose number appears on more than one contact of a team."""
    phones = _active_methods(team_ids, ContactMethod.Kind.PHONE)
    shared = phones.values("team_id", "normalized").annotate(n=Count("contact_id", distinct=True)).filter(n__gt=1)
    rows = phones.filter(normalized__in=shared.values("normalized")).values_list("team_id", "normalized", "contact_id")
    return _pairs_sharing([((team, number), contact) for team, number, contact in rows])


def _base_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _tagged_emails(team_ids: list[int] | None) -> set[Pair]:
    """Two queries: addresses with a +tag, then the same addresses without it."""
    emails = _active_methods(team_ids, ContactMethod.Kind.EMAIL)
    tagged = list(emails.filter(normalized__contains="+").values_list("team_id", "normalized", "contact_id")[:5000])
    if not tagged:
        return set()
    bases = {_base_email(email) for _, email, _ in tagged}
    plain = emails.filter(normalized__in=bases).values_list("team_id", "normalized", "contact_id")
    rows = [((team, _base_email(email)), contact) for team, email, contact in tagged]
    return _pairs_sharing(rows + [((team, email), contact) for team, email, contact in plain])


def _similar_names_postgresql(team_ids: list[int] | None, limit: int) -> set[Pair]:
    table = Contact._meta.db_table
    # The join stays within one organization, so it compares only its members' names.
    sql = f"""
        SELECT a.id, b.id FROM {table} a
        JOIN {table} b ON b.organization_id = a.organization_id AND b.id > a.id AND b.team_id = a.team_id
        WHERE a.organization_id IS NOT NULL AND NOT a.archived AND NOT b.archived
          AND (%s OR a.team_id = ANY(%s))
          AND similarity(a.display_name, b.display_name) >= %s
        ORDER BY similarity(a.display_name, b.display_name) DESC, a.id
        LIMIT %s
    """  # noqa: S608 - the table name is the model's; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [team_ids is None, team_ids or [], NAME_SIMILARITY, limit])
        return {_pair(a, b) for a, b in cursor.fetchall()}


def _similar_names_fallback(team_ids: list[int] | None, limit: int) -> set[Pair]:
    people = (
        Contact.objects.filter(_team_filter(team_ids), organization__isnull=False, archived=False)
        .order_by()
        .values_list("id", "organization_id", "display_name")
    )
    by_organization: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, organization_id, name in people:
        by_organization[organization_id].append((pk, name.casefold()))
    pairs: set[Pair] = set()
    for members in by_organization.values():
        for index, (a, name_a) in enumerate(members):
            for b, name_b in members[index + 1 :]:
                if SequenceMatcher(None, name_a, name_b).ratio() >= NAME_RATIO:
                    pairs.add(_pair(a, b))
                    if len(pairs) >= limit:
                        return pairs
    return pairs


def _similar_names(team_ids: list[int] | None, limit: int) -> set[Pair]:
    if connection.vendor == "postgresql":
        return _similar_names_postgresql(team_ids, limit)
    return _similar_names_fallback(team_ids, limit)


def duplicate_suggestions(*, user: Any, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Likely duplicates among the contacts ``user`` sees, at most ``limit`` pairs, strongest first.

    Six queries: phones, +tag emails (two), similar names, then the contacts with their
    organizations and methods.
    """
    team_ids = visible_team_ids(user)
    if team_ids == []:
        return []
    reasons: dict[Pair, list[str]] = defaultdict(list)
    for pair in _shared_phones(team_ids):
        reasons[pair].append("Same phone number")
    for pair in _tagged_emails(team_ids):
        reasons[pair].append("Same email address (but for a +tag)")
    for pair in _similar_names(team_ids, limit):
        reasons[pair].append("Similar name in the same organization")
    # Several reasons first, then the oldest contacts.
    ordered = sorted(reasons, key=lambda pair: (-len(reasons[pair]), pair))[:limit]
    ids = {pk for pair in ordered for pk in pair}
    contacts = {
        contact.pk: contact
        for contact in visible_contacts(user)
        .filter(pk__in=ids)
        .select_related("organization")
        .prefetch_related("methods")
    }
    return [
        Suggestion(contacts[a], contacts[b], reasons[(a, b)])
        for a, b in ordered
        if a in contacts and b in contacts and contacts[a].team_id == contacts[b].team_id
    ]


def merged_contact_target(*, user: Any, pk: int) -> int | None:
    """The id of the contact ``pk`` was merged into, if ``user`` may see it (one query)."""
    return (
        ContactRedirect.objects.filter(old_id=pk, contact__in=visible_contacts(user))
        .values_list("contact_id", flat=True)
        .first()
    )
