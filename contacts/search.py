"""Free-text search over contacts: name, title, email (and other methods), organization.

PostgreSQL uses full-text search ('simple' configuration: names are not English words) over
each contact's stored document (``search_document``, a column PostgreSQL generates from the
name and title: migration 0010) and pg_trgm for substrings, each branch served by an index;
the matches are ranked. Typos are forgiven (names spelt alike, by trigram similarity) only
when nothing the user may see contains the term. The matching contacts are read once, as a
list of ids, which the page and its capped count then look up by primary key: the branches
are not run twice, and the planner knows how many rows it will rank.

A page listed by relevance ranks at most ``limit`` matches (the list's count cap and one,
``contacts.selectors.contact_filter``), so a term that thousands of people share costs what
a thousand cost: the whole-word matches take the places first, the newest first, then the
others (the term inside a word, an address, an organization); PostgreSQL stops reading once
the places are taken. The page ranks those; ties in rank list the newest first anyway, so
only a better-ranked older match (a name hit among many title hits) can be left out. Sorted
by a column, exported or counted, a search finds every match.

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

import operator
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import reduce
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
_ID_ARRAY = ArrayField(BigIntegerField())


def search_is_ranked(term: str | None = None) -> bool:
    """True when ``contact_search`` annotates ``search_rank``: on PostgreSQL, for a ``term``
    long enough to search inside names (shorter ones are listed by name: see below)."""
    if connection.vendor != "postgresql":
        return False
    return term is None or len(term.strip()) >= SUBSTRING_MIN_LENGTH


def contact_search(contacts: QuerySet[Contact], term: str, *, limit: int | None = None) -> QuerySet[Contact]:
    """``contacts`` narrowed to those matching ``term``; on PostgreSQL annotated with ``search_rank``.

    On PostgreSQL this runs one query (the matching ids) when called. ``limit``: for a page
    listed by relevance, at most that many matches, the best kinds first (``_matching``);
    terms too short to rank ignore it.
    """
    term = term.strip()
    if not term:
        return contacts
    if search_is_ranked():
        return _search_postgresql(contacts, term, limit=limit)
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


def _matching(contacts: QuerySet[Contact], *alternatives: Sequence[Q], limit: int | None = None) -> QuerySet[Contact]:
    """``contacts`` among the first of ``alternatives`` that finds any of them (``_matching_sql``);
    their ids are read now, once."""
    built = _matching_sql(contacts, *alternatives, limit=limit)
    return contacts.none() if built is None else _among_ids(contacts, *built)


def _matching_sql(
    contacts: QuerySet[Contact], *alternatives: Sequence[Q], limit: int | None = None
) -> tuple[str, list[Any]] | None:
    """The query of the ids of ``contacts`` among the first of ``alternatives`` that finds any
    of them (None when it can match nobody): an alternative runs only if the ones before
    found nobody ``contacts`` holds (so another team's people never decide).

    An alternative is a list of tiers, conditions on the contact that exclude one another,
    best matches first. With ``limit``, at most ``limit`` ids: the first tier's, the newest
    (highest ids) first, then the next tier's, which PostgreSQL does not run once the limit
    is reached. Without it, every match of any tier.

    The conditions and the other filters on ``contacts`` are tested in one scan of the
    contacts; a tier that looks in other tables (``_ids_in``) gives its ids as
    ``id = ANY(ARRAY(branch))`` (an ``IN`` was a hash join over every contact).
    """
    documents = contacts.order_by().alias(document=_Document(), name_document=_name_document())
    arrays: list[str] = []
    params: list[Any] = []
    for tiers in alternatives:
        if limit is None:
            # Every match: one scan of the contacts for all the tiers.
            tiers = [reduce(operator.or_, tiers)]
        selects: list[str] = []
        for condition in tiers:
            tier = documents.filter(condition).values("id")
            if limit is not None:
                tier = tier.order_by("-id")[:limit]
            try:
                sql, tier_params = tier.query.sql_with_params()
            except EmptyResultSet:
                continue
            selects.append(f"({sql})")
            params.extend(tier_params)
        if selects:
            # UNION ALL runs its parts in order and a LIMIT above it stops them.
            union = " UNION ALL ".join(selects)
            bound = "" if limit is None else f" LIMIT {int(limit)}"
            arrays.append(f"NULLIF(ARRAY(SELECT id FROM ({union}) AS tiers{bound}), '{{}}')")  # noqa: S608 - Django's compiled SQL
    if not arrays:
        return None
    # COALESCE evaluates (and PostgreSQL runs) an array only when those before it are empty.
    return f"SELECT COALESCE({', '.join(arrays)}, '{{}}')::text", params


def _among_ids(contacts: QuerySet[Contact], sql: str, params: Sequence[Any]) -> QuerySet[Contact]:
    """``contacts`` among the ids ``sql`` answers, read now. The ids travel as one array
    literal, there and back (thousands of ids converted one by one cost more than the
    query); the page and its count then look them up by primary key."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (literal,) = cursor.fetchone()
    return contacts.filter(_AnyOf(F("id"), Cast(Value(literal), _ID_ARRAY)))


def _ids_in(*branches: QuerySet[Any]) -> Q:
    """The contact's id is among those ``branches`` (queries of contact ids) answer."""
    first, *others = (branch.order_by() for branch in branches)
    union = first.union(*others) if others else first
    return Q(_AnyOf(F("id"), Func(Subquery(union), function="ARRAY", output_field=_ID_ARRAY)))


def _names_or_shown_titles(query: SearchQuery) -> Q:
    """The document matches ``query`` through the name, or the contact shows its title.

    The document holds the title too; for the few people who withhold it, the match is
    checked again against the name alone.
    """
    shown = _shown("title")
    if not shown:
        return Q()
    return shown | Q(name_document=query)


def _name_document() -> SearchVector:
    """The name alone as a document (for the few people who withhold their title)."""
    return SearchVector("display_name", config=SEARCH_CONFIG)


def _search_word_prefix(contacts: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    """Contacts with a word of the name or title starting with each word of ``term``."""
    words = re.findall(r"\w+", term)
    if not words:
        return contacts.none()
    query = SearchQuery(" & ".join(f"{word}:*" for word in words), config=SEARCH_CONFIG, search_type="raw")
    # Not ranked: one or two letters match thousands of people, and ranking them all would
    # cost more than listing them by name.
    return _matching(contacts, [_whole_words(query)])


def _whole_words(query: SearchQuery) -> Q:
    """The contact's document has the words of ``query`` (in the name, or a shown title):
    the best-ranked matches (``_search_postgresql``), served by the document's GIN index."""
    return Q(document=query) & _names_or_shown_titles(query)


def _contains_elsewhere(term: str) -> QuerySet[Any]:
    """Contacts whose name or shown title contains ``term``, inside a word or across words.

    The two tests in ONE disjunction, so PostgreSQL ORs the bitmaps of their trigram
    indexes and reads the matching rows once (kept apart, the ILIKE tests were planned as
    sequential scans: pg_trgm prices its operators like an equality).
    """
    own = _contains("display_name", term) | (_contains("title", term) & _shown("title"))
    return Contact.objects.filter(own).values("id")


def _similar_names(term: str) -> Q:
    """The contact's name is spelt like ``term``: as a whole (%) or a part of it (%>)."""
    name, value = F("display_name"), Value(term)
    return Q(TrigramSimilar(name, value)) | Q(TrigramWordSimilar(name, value))


def _term_kind(term: str) -> tuple[bool, bool, bool]:
    """What the matching query's SQL depends on in a term: an ``@``, a digit, its length."""
    return "@" in term, any(character.isdigit() for character in term), len(term) >= FUZZY_MIN_LENGTH


def _search_alternatives(term: str) -> list[list[Q]]:
    """``_matching_sql``'s alternatives for ``term`` (of three characters or more)."""
    is_address, has_digit, fuzzy_length = _term_kind(term)
    methods = _in_methods(term, postgresql=True)
    if is_address:
        # An address: only contact methods hold one.
        return [[_ids_in(methods)]]
    # The tiers of the ranking: whole words, then the term inside a name, title, method or
    # organization (other tables: a branch each, each its own index scan).
    whole_words = _whole_words(SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch"))
    elsewhere = _ids_in(_contains_elsewhere(term), methods, _in_organizations(term, postgresql=True))
    alternatives = [[whole_words, elsewhere & ~whole_words]]
    if fuzzy_length and not has_digit:
        # Misspelt names, only when nothing contains the term: a common surname's thousands
        # of people are not joined by every name that shares its trigrams (and the
        # similarity of each is not computed). Not for numbers, which trigrams cannot tell apart.
        alternatives.append([_similar_names(term)])
    return alternatives


def _like(term: str) -> str:
    return f"%{connection.ops.prep_for_like_query(term)}%"


@dataclass(frozen=True)
class _StoredMatching:
    sql: str
    params: tuple[Any, ...]
    # (position, True for the ILIKE pattern or False for the term itself)
    term_slots: tuple[tuple[int, bool], ...]


# The matching query by shape (``_stored_matching``), at most this many, the oldest forgotten first.
_STORED_MATCHING_SIZE = 512
_stored_matching: dict[Hashable, _StoredMatching] = {}


def _store_matching(
    contacts: QuerySet[Contact], kind: tuple[bool, bool, bool], limit: int | None
) -> _StoredMatching | None:
    """The matching query built for a stand-in term of ``kind`` (characters no one types), with
    the positions of its parameters; None when it matches nobody or when the term shows in its
    SQL otherwise than as those parameters."""
    is_address, has_digit, fuzzy_length = kind
    stand_in = (
        "\u2063" + ("@" if is_address else "\u2064") + ("0" if has_digit else "\u2062") + ("\u2061" * fuzzy_length)
    )
    built = _matching_sql(contacts, *_search_alternatives(stand_in), limit=limit)
    if built is None:
        return None
    sql, params = built
    slots = tuple((i, value != stand_in) for i, value in enumerate(params) if value in (stand_in, _like(stand_in)))
    in_slots = {position for position, _ in slots}
    others = [value for position, value in enumerate(params) if position not in in_slots]
    if stand_in in sql or any(isinstance(value, str) and stand_in in value for value in others):
        return None
    return _StoredMatching(sql, tuple(params), slots)


def _search_matches(contacts: QuerySet[Contact], term: str, limit: int | None) -> QuerySet[Contact]:
    """``_matching`` for ``term``'s alternatives, with the SQL compiled once per shape.

    Building and compiling the matching query (its tiers, the privacy subqueries of every
    branch) cost ten times running it from Python. Its SQL depends only on the contacts
    searched (their query's SQL and parameters: the user's teams, the other filters), the
    kind of term (``_term_kind``) and the bound; the term itself is a parameter, found by
    building the query once for a stand-in term of the same kind.
    """
    try:
        contacts_sql, contacts_params = contacts.order_by().values("id").query.sql_with_params()
    except EmptyResultSet:
        return contacts.none()
    kind = _term_kind(term)
    key = (connection.alias, contacts_sql, tuple(contacts_params), kind, limit)
    try:
        stored = _stored_matching.get(key)
    except TypeError:  # a parameter that cannot be a key: build the query for this request
        return _matching(contacts, *_search_alternatives(term), limit=limit)
    if stored is None:
        stored = _store_matching(contacts, kind, limit)
        if stored is None:
            return _matching(contacts, *_search_alternatives(term), limit=limit)
        if len(_stored_matching) >= _STORED_MATCHING_SIZE:
            del _stored_matching[next(iter(_stored_matching))]
        _stored_matching[key] = stored
    params = list(stored.params)
    for position, is_pattern in stored.term_slots:
        params[position] = _like(term) if is_pattern else term
    return _among_ids(contacts, stored.sql, params)


def _search_postgresql(contacts: QuerySet[Contact], term: str, *, limit: int | None) -> QuerySet[Contact]:
    if len(term) < SUBSTRING_MIN_LENGTH:
        return _search_word_prefix(contacts, term)
    query = SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch")
    found = _search_matches(contacts, term, limit)
    # Whole-word hits first (names weigh more than titles in the document), then the closest
    # spellings of the name; the similarity is computed only for the rows that need it.
    rank = Case(
        When(document=query, then=Value(1.0) + Cast(SearchRank(F("document"), query), FloatField())),
        default=Cast(TrigramWordSimilarity(term, "display_name"), FloatField()),
        output_field=FloatField(),
    )
    return found.alias(document=_Document()).annotate(search_rank=rank)
