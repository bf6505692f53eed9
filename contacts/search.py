"""Free-text search over contacts: name, title, email (and other methods), organization.

PostgreSQL uses full-text search ('simple' configuration: names are not English words) and
pg_trgm for substrings and typos, each branch served by an index from migration 0002; the
matches are ranked. Terms of one or two characters have no trigram: they match the start
of the words of names and titles only (the full-text index's prefix search), listed by
name rather than ranked, which the search box's help text says. SQLite (the embedded demo)
falls back to a plain case-insensitive LIKE.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.lookups import TrigramSimilar, TrigramWordSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection
from django.db.models import F, FloatField, Lookup, Q, QuerySet, Value
from django.db.models.functions import Cast

from contacts.models import Contact, ContactMethod, Organization

# Must stay the expression of contact_search_fts_idx (migration 0002) for the index to be used.
SEARCH_CONFIG = "simple"
# Shorter terms share trigrams with too many names for similarity to mean anything.
FUZZY_MIN_LENGTH = 4
# pg_trgm's indexes cannot look up a term with no whole trigram: shorter terms match the
# start of a word of the name or title instead (a prefix search of the full-text index).
SUBSTRING_MIN_LENGTH = 3


def contact_search_vector() -> SearchVector:
    return SearchVector("display_name", "title", config=SEARCH_CONFIG)


def search_is_ranked(term: str | None = None) -> bool:
    """True when ``contact_search`` annotates ``search_rank``: on PostgreSQL, for a ``term``
    long enough to search inside names (shorter ones are listed by name: see below)."""
    if connection.vendor != "postgresql":
        return False
    return term is None or len(term.strip()) >= SUBSTRING_MIN_LENGTH


def contact_search(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    """``contacts`` narrowed to those matching ``term``; on PostgreSQL annotated with ``search_rank``."""
    term = term.strip()
    if not term:
        return contacts
    if search_is_ranked():
        return _search_postgresql(contacts, term)
    return _search_plain(contacts, term)


def contact_search_organizations(contacts: QuerySet[Contact], name: str) -> QuerySet[Contact]:
    """``contacts`` whose organization's name contains ``name`` (served by org_name_trgm_idx)."""
    name = name.strip()
    if not name:
        return contacts
    matching = Organization.objects.filter(
        _contains("name", name) if search_is_ranked() else Q(name__icontains=name)
    ).values("id")
    return contacts.filter(organization__in=matching)


def _search_plain(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    in_methods = ContactMethod.objects.filter(value__icontains=term).values("contact_id")
    return contacts.filter(
        Q(display_name__icontains=term)
        | Q(title__icontains=term)
        | Q(organization__name__icontains=term)
        | Q(id__in=in_methods)
    )


class _ILike(Lookup):
    """``lhs ILIKE rhs``, the operator pg_trgm GIN indexes serve.

    Django's ``icontains`` compiles to ``UPPER(col) LIKE UPPER(...)`` on PostgreSQL, which an
    index on the bare column cannot answer.
    """

    lookup_name = "trigram_ilike"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs}::text ILIKE {rhs}", (*lhs_params, *rhs_params)


def _contains(field: str, term: str) -> Q:
    return Q(_ILike(F(field), Value(f"%{connection.ops.prep_for_like_query(term)}%")))


def _search_word_prefix(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    """Contacts with a word of the name or title starting with each word of ``term``."""
    words = re.findall(r"\w+", term)
    if not words:
        return contacts.none()
    query = SearchQuery(" & ".join(f"{word}:*" for word in words), config=SEARCH_CONFIG, search_type="raw")
    matches = Contact.objects.annotate(document=contact_search_vector()).filter(document=query).values("id")
    # Not ranked: one or two letters match thousands of people, and ranking them all would
    # rebuild each one's document; by name, the page is read off the name index.
    return contacts.filter(id__in=matches)


def _search_postgresql(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    if len(term) < SUBSTRING_MIN_LENGTH:
        return _search_word_prefix(contacts, term)
    query = SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch")
    name, value = F("display_name"), Value(term)
    # Every test on the contact's own columns in ONE disjunction, so PostgreSQL ORs the
    # bitmaps of their indexes (full-text GIN, trigram GIN on names and titles) and reads the
    # matching rows once. Kept apart (a UNION branch each), the ILIKE and similarity
    # branches were planned as sequential scans computing trigrams for every contact (1.3 s
    # at 100,000 people): pg_trgm prices its operators like an equality, while to_tsvector's
    # cost in the same disjunction prices the scan right. Cheap tests first: the recheck of
    # each row stops at the first that holds.
    own = _contains("display_name", term) | _contains("title", term)
    if len(term) >= FUZZY_MIN_LENGTH:
        # Misspelt names: similar as a whole (%) or to a part of the name (%>).
        own |= Q(TrigramSimilar(name, value)) | Q(TrigramWordSimilar(name, value))
    own |= Q(document=query)
    own_columns = Contact.objects.annotate(document=contact_search_vector()).filter(own).values("id")
    # Methods and organizations are other tables: a branch each, each its own index scan.
    methods = ContactMethod.objects.filter(_contains("normalized", term)).values("contact_id")
    organizations = Contact.objects.filter(
        organization__in=Organization.objects.filter(_contains("name", term)).values("id")
    ).values("id")
    branches = [own_columns, methods, organizations]
    first, *others = (branch.order_by() for branch in branches)
    matches = first.union(*others)
    # Whole-word hits first, then the closest spellings of the name.
    rank = Cast(SearchRank(contact_search_vector(), query), FloatField()) + Cast(
        TrigramWordSimilarity(term, "display_name"), FloatField()
    )
    return contacts.filter(id__in=matches).annotate(search_rank=rank)
