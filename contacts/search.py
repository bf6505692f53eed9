"""Free-text search over contacts: name, title, email (and other methods), organization.

PostgreSQL uses full-text search ('simple' configuration: names are not English words) and
pg_trgm for substrings and typos, each branch served by an index from migration 0002; the
matches are ranked. SQLite (the embedded demo) falls back to a plain case-insensitive LIKE.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.lookups import TrigramSimilar, TrigramWordSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection
from django.db.models import F, FloatField, Lookup, Q, QuerySet, Value
from django.db.models.functions import Cast

from contacts.models import Contact, ContactMethod, Organization

# Must stay the expression of contact_search_fts_idx (migration 0002) for the index to be used.
SEARCH_CONFIG = "simple"


def contact_search_vector() -> SearchVector:
    return SearchVector("display_name", "title", config=SEARCH_CONFIG)


def search_is_ranked() -> bool:
    """True when ``contact_search`` annotates ``search_rank`` (PostgreSQL)."""
    return connection.vendor == "postgresql"


def contact_search(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    """``contacts`` narrowed to those matching ``term``; on PostgreSQL annotated with ``search_rank``."""
    term = term.strip()
    if not term:
        return contacts
    if search_is_ranked():
        return _search_postgresql(contacts, term)
    return _search_plain(contacts, term)


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


def _search_postgresql(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    query = SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch")
    # Each branch is its own index scan (full-text GIN, trigram GIN on names, titles, method
    # values and organization names); a UNION of ids keeps them so, where one OR across the
    # joins would make PostgreSQL scan every contact.
    words = Contact.objects.annotate(document=contact_search_vector()).filter(document=query)
    # Substrings, and misspelt names: similar as a whole (%) or to a part of the name (%>).
    fuzzy = Contact.objects.filter(
        _contains("display_name", term)
        | _contains("title", term)
        | Q(TrigramSimilar(F("display_name"), Value(term)))
        | Q(TrigramWordSimilar(F("display_name"), Value(term)))
    )
    methods = ContactMethod.objects.filter(_contains("normalized", term)).values("contact_id")
    organizations = Contact.objects.filter(
        organization__in=Organization.objects.filter(_contains("name", term)).values("id")
    )
    matches = (
        words.values("id")
        .order_by()
        .union(fuzzy.values("id").order_by(), methods.order_by(), organizations.values("id").order_by())
    )
    # Whole-word hits first, then the closest spellings of the name.
    rank = Cast(SearchRank(contact_search_vector(), query), FloatField()) + Cast(
        TrigramWordSimilarity(term, "display_name"), FloatField()
    )
    return contacts.filter(id__in=matches).annotate(search_rank=rank)
