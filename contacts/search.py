"""Free-text search over contacts: name, title, email (and other methods), organization.

PostgreSQL uses full-text search ('simple' configuration: names are not English words) over
each contact's stored document (``search_document``, a column PostgreSQL generates from the
name and title: migration 0010) and pg_trgm for substrings, each branch served by an index;
the matches are ranked. Typos are forgiven (names spelt alike, by trigram similarity) only
when nothing the user may see contains the term. The matching contacts are read once, as a
list of ids, which the page and its capped count then look up by primary key: the branches
are not run twice, and the planner knows how many rows it will rank.

Terms of one or two characters have no trigram: they match the start of the words of names
and titles only (a prefix search of the document), listed by name rather than ranked, which
the search box's help text says. Terms with an ``@`` are addresses: they look in the contact
methods only; terms with a digit (phone numbers, street numbers) skip the typo-forgiving
name comparisons. SQLite (the embedded demo) falls back to a plain case-insensitive LIKE.

Search never finds a person by what they withhold from staff (their privacy preferences:
``contacts.registry.contacts_withholding``): a withheld email, phone, website or handle, a
withheld title or organization match nothing, as the list does not show them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import TrigramSimilar, TrigramWordSimilar
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Expression,
    F,
    FloatField,
    Func,
    Lookup,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast

from contacts.models import Contact, ContactMethod, Organization
from contacts.registry import contacts_withholding

# Must stay the configuration of the search_document column (migration 0010).
SEARCH_CONFIG = "simple"
# Shorter terms share trigrams with too many names for similarity to mean anything.
FUZZY_MIN_LENGTH = 4
# pg_trgm's indexes cannot look up a term with no whole trigram: shorter terms match the
# start of a word of the name or title instead (a prefix search of the full-text index).
SUBSTRING_MIN_LENGTH = 3


def search_is_ranked(term: str | None = None) -> bool:
    """True when ``contact_search`` annotates ``search_rank``: on PostgreSQL, for a ``term``
    long enough to search inside names (shorter ones are listed by name: see below)."""
    if connection.vendor != "postgresql":
        return False
    return term is None or len(term.strip()) >= SUBSTRING_MIN_LENGTH


def contact_search(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    """``contacts`` narrowed to those matching ``term``; on PostgreSQL annotated with ``search_rank``.

    On PostgreSQL this runs one query (the matching ids) when called.
    """
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


def _shown(attribute: str, contact: str = "id") -> Q:
    """Rows whose contact (the ``contact`` column) does not withhold ``attribute``."""
    withholding = contacts_withholding(attribute)
    return Q() if withholding is None else ~Q(**{f"{contact}__in": withholding})


def _in_methods(term: str, *, postgresql: bool) -> QuerySet[Any]:
    """Contact ids with a method containing ``term`` that its contact does not withhold."""
    shown = Q()
    for kind in ContactMethod.Kind.values:
        withholding = contacts_withholding(kind)
        if withholding is not None:
            shown &= ~Q(kind=kind, contact_id__in=withholding)
    contains = _contains("normalized", term) if postgresql else Q(value__icontains=term)
    return ContactMethod.objects.filter(contains, shown).values("contact_id")


def _in_organizations(term: str, *, postgresql: bool) -> QuerySet[Any]:
    organizations = Organization.objects.filter(_contains("name", term) if postgresql else Q(name__icontains=term))
    return Contact.objects.filter(Q(organization__in=organizations.values("id")), _shown("organization")).values("id")


def _search_plain(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    return contacts.filter(
        Q(display_name__icontains=term)
        | (Q(title__icontains=term) & _shown("title"))
        | Q(id__in=_in_organizations(term, postgresql=False))
        | Q(id__in=_in_methods(term, postgresql=False))
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


class _AnyOf(Lookup):
    """``lhs = ANY(rhs)``: one array parameter (or ``ARRAY(subquery)``), however many ids."""

    lookup_name = "any_of"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


class _Document(Expression):
    """The contact's stored full-text document, the ``search_document`` column.

    The model does not declare it (SQLite has no tsvector); it is written as the row's ``id``
    column renamed, so that Django's aliasing of subqueries (``U0``) applies to it too.
    """

    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__()
        self.row: Any = F("pk")

    def get_source_expressions(self) -> list[Any]:
        return [self.row]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.row,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        # Parameters as a list: Django's full-text lookups add them to the query's list.
        table = compiler.quote_name_unless_alias(self.row.alias)
        return f"{table}.{connection.ops.quote_name('search_document')}", []


def _contains(field: str, term: str) -> Q:
    return Q(_ILike(F(field), Value(f"%{connection.ops.prep_for_like_query(term)}%")))


def _matching(contacts: QuerySet[Contact], *matches: QuerySet[Any]) -> QuerySet[Contact]:
    """``contacts`` among the first of ``matches`` (queries of contact ids) that finds any of
    them; their ids are read now, once, and a later query runs only if the ones before found
    nobody ``contacts`` holds (so another team's people never decide).

    ``id = ANY(ARRAY(match))`` makes PostgreSQL run the branches once and look the contacts
    up by primary key (an ``IN`` was a hash join over every contact). The ids travel as one
    array literal, there and back (thousands of ids converted one by one cost more than the
    query); the page and its count then look them up.
    """
    ids = ArrayField(BigIntegerField())
    arrays: list[str] = []
    params: list[Any] = []
    for match in matches:
        found = Func(Subquery(match.order_by()), function="ARRAY", output_field=ids)
        try:
            sql, match_params = contacts.order_by().filter(_AnyOf(F("id"), found)).values("id").query.sql_with_params()
        except EmptyResultSet:
            return contacts.none()
        arrays.append(f"NULLIF(ARRAY({sql}), '{{}}')")
        params.extend(match_params)
    # COALESCE evaluates (and PostgreSQL runs) an array only when those before it are empty.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE({', '.join(arrays)}, '{{}}')::text", params)
        (literal,) = cursor.fetchone()
    return contacts.filter(_AnyOf(F("id"), Cast(Value(literal), ids)))


def _names_or_shown_titles(query: SearchQuery) -> Q:
    """The document matches ``query`` through the name, or the contact shows its title.

    The document holds the title too; for the few people who withhold it, the match is
    checked again against the name alone.
    """
    shown = _shown("title")
    if not shown:
        return Q()
    return shown | Q(name_document=query)


def _documents() -> QuerySet[Contact]:
    """Contacts with their stored ``document`` and ``name_document`` (the name alone) to filter on."""
    return Contact.objects.alias(document=_Document(), name_document=SearchVector("display_name", config=SEARCH_CONFIG))


def _search_word_prefix(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    """Contacts with a word of the name or title starting with each word of ``term``."""
    words = re.findall(r"\w+", term)
    if not words:
        return contacts.none()
    query = SearchQuery(" & ".join(f"{word}:*" for word in words), config=SEARCH_CONFIG, search_type="raw")
    # Not ranked: one or two letters match thousands of people, and ranking them all would
    # cost more than listing them by name.
    matches = _documents().filter(Q(document=query) & _names_or_shown_titles(query)).values("id")
    return _matching(contacts, matches)


def _own_columns(term: str, query: SearchQuery) -> QuerySet[Any]:
    """Contacts whose name or shown title contains ``term`` or has its words.

    Every test in ONE disjunction, so PostgreSQL ORs the bitmaps of their indexes (the
    document's GIN, trigram GINs on names and titles) and reads the matching rows once. Kept
    apart (a UNION branch each), the ILIKE tests were planned as sequential scans computing
    trigrams for every contact (pg_trgm prices its operators like an equality). Cheap tests
    first: the recheck of each row stops at the first that holds.
    """
    own = _contains("display_name", term) | (_contains("title", term) & _shown("title"))
    own |= Q(document=query) & _names_or_shown_titles(query)
    return _documents().filter(own).values("id")


def _similar_names(term: str) -> QuerySet[Any]:
    """Contacts whose name is spelt like ``term``: as a whole (%) or a part of it (%>)."""
    name, value = F("display_name"), Value(term)
    return Contact.objects.filter(Q(TrigramSimilar(name, value)) | Q(TrigramWordSimilar(name, value))).values("id")


def _search_postgresql(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    if len(term) < SUBSTRING_MIN_LENGTH:
        return _search_word_prefix(contacts, term)
    query = SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch")
    methods = _in_methods(term, postgresql=True)
    if "@" in term:
        # An address: only contact methods hold one.
        found = _matching(contacts, methods)
    else:
        # Methods and organizations are other tables: a branch each, each its own index scan.
        branches = [_own_columns(term, query), methods, _in_organizations(term, postgresql=True)]
        first, *others = (branch.order_by() for branch in branches)
        matches = [first.union(*others)]
        if len(term) >= FUZZY_MIN_LENGTH and not any(character.isdigit() for character in term):
            # Misspelt names, only when nothing contains the term: a common surname's
            # thousands of people are not joined by every name that shares its trigrams
            # (and the similarity of each is not computed). Not for numbers, which trigrams
            # cannot tell apart.
            matches.append(_similar_names(term))
        found = _matching(contacts, *matches)
    # Whole-word hits first (names weigh more than titles in the document), then the closest
    # spellings of the name; the similarity is computed only for the rows that need it.
    rank = Case(
        When(document=query, then=Value(1.0) + Cast(SearchRank(F("document"), query), FloatField())),
        default=Cast(TrigramWordSimilarity(term, "display_name"), FloatField()),
        output_field=FloatField(),
    )
    return found.alias(document=_Document()).annotate(search_rank=rank)
