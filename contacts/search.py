"""Free-text search over contacts: name, title, email (and other methods), organization.

PostgreSQL uses full-text search ('simple' configuration: names are not English words) and
pg_trgm for substrings and typos, each branch served by an index from migration 0002; the
matches are ranked. SQLite (the embedded demo) falls back to a plain case-insensitive LIKE.
"""

from __future__ import annotations

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.functions import Cast

from contacts.models import Contact, ContactMethod

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


def _search_postgresql(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    query = SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch")
    # Each branch is its own index scan (full-text GIN, trigram GIN on names, titles, method
    # values and organization names); a UNION of ids keeps them so, where one OR across the
    # joins would make PostgreSQL scan every contact.
    words = Contact.objects.annotate(document=contact_search_vector()).filter(document=query).values("id")
    fuzzy = Contact.objects.filter(
        Q(display_name__icontains=term) | Q(title__icontains=term) | TrigramWordSimilar(F("display_name"), Value(term))
    ).values("id")
    methods = ContactMethod.objects.filter(normalized__icontains=term).values("contact_id")
    organizations = Contact.objects.filter(organization__name__icontains=term).values("id")
    matches = words.union(fuzzy, methods, organizations)
    # Whole-word hits first, then the closest spellings of the name.
    rank = Cast(SearchRank(contact_search_vector(), query), FloatField()) + Cast(
        TrigramWordSimilarity(term, "display_name"), FloatField()
    )
    return contacts.filter(id__in=matches).annotate(search_rank=rank)
