"""Reads of contacts, scoped to what the user may see."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateTimeField,
    Exists,
    F,
    Func,
    IntegerField,
    JSONField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contacts.filters import ContactFilter, OrganizationFilter
from contacts.models import Activity, Contact, ContactMethod, Organization, SavedView, Tag
from contacts.search import search_is_ranked
from socialcrm import roles
from socialcrm.models import Team, User
from socialcrm.pagination import TimeCursor as TimelineCursor
from socialcrm.pagination import newest_first_page, newest_first_query
from socialcrm.stored_queries import StoredQueries

RowT = TypeVar("RowT", bound=Model)


def _sees_everything(user: Any) -> bool:
    # DPO views of personal data are audited by the consent app.
    return roles.is_admin(user) or roles.is_dpo(user)


def _own_teams(user: Any) -> list[Team]:
    """The teams ``user`` is a member or manager of (one query, cached on the user object)."""
    cached: list[Team] | None = getattr(user, "_own_teams", None)
    if cached is None:
        # ``user_manages`` comes along so that ``managed_team_ids`` needs no query of its own.
        manages = Team.managers.through.objects.filter(team_id=OuterRef("pk"), user_id=user.pk)
        cached = (
            list(
                Team.objects.filter(Q(members=user) | Q(managers=user))
                .annotate(user_manages=Exists(manages))
                .distinct()
                .order_by("name", "id")
            )
            if roles.is_staff_member(user)
            else []
        )
        user._own_teams = cached
    return cached


def managed_team_ids(user: Any) -> set[int]:
    """Ids of the teams ``user`` manages (the query ``visible_team_ids`` makes, cached on the user)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    return {team.pk for team in _own_teams(user) if getattr(team, "user_manages", False)}


def visible_team_ids(user: Any) -> list[int] | None:
    """Ids of the teams whose contacts ``user`` sees; None means every team."""
    if not user.is_authenticated or not user.is_active:
        return []
    if _sees_everything(user):
        return None
    return [team.pk for team in _own_teams(user)]


def visible_teams(user: Any) -> list[Team]:
    """The teams whose contacts ``user`` sees, by name (for pickers; no query after the first)."""
    if visible_team_ids(user) is None:
        return list(Team.objects.order_by("name", "id"))
    return _own_teams(user)


def visible_contacts(user: Any) -> QuerySet[Contact]:
    """The one rule for who sees which contacts.

    Sales and managers see their teams' contacts; DPOs and admins see all; anyone
    else sees none.
    """
    team_ids = visible_team_ids(user)
    if team_ids is None:
        return Contact.objects.all()
    return Contact.objects.filter(team_id__in=team_ids)


def visible_organizations(user: Any) -> QuerySet[Organization]:
    team_ids = visible_team_ids(user)
    if team_ids is None:
        return Organization.objects.all()
    return Organization.objects.filter(team_id__in=team_ids)


def contact_get(*, user: Any, pk: int) -> Contact:
    """The contact ``pk`` if ``user`` may see it; Http404 otherwise (never 403, to hide existence)."""
    contact = visible_contacts(user).select_related("organization", "owner", "team").filter(pk=pk).first()
    if contact is None:
        raise Http404("No such contact.")
    return contact


# What ``JSONFields`` accepts as a key: written into the SQL as a literal, so never user input.
_JSON_KEY = re.compile(r"[a-z_][a-z0-9_]*")


class JSONFields(Func):
    """A JSON object of ``key=expression`` pairs (``JSONB_BUILD_OBJECT`` / ``JSON_OBJECT``).

    Django's ``JSONObject`` with its keys written as SQL literals rather than cast
    parameters: half the expressions to resolve and compile, which is most of the cost of
    building the contact page's one big query (dozens of fields in its JSON subqueries).
    Keys are identifiers chosen in code (checked here), never input.
    """

    output_field = JSONField()

    def __init__(self, *, columns: Sequence[str] = (), **fields: Any) -> None:
        """``columns``: columns of the query's own table, each under its name, written as
        ``alias.column`` with no expression to resolve at all (``model_json_rows``)."""
        for key in [*columns, *fields]:
            if not _JSON_KEY.fullmatch(key):
                raise ValueError(f"Not a JSON key for SQL: {key!r}")
        self.columns = list(columns)
        self.keys = list(fields)
        super().__init__(*fields.values())

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        function = "JSONB_BUILD_OBJECT" if connection.vendor == "postgresql" else "JSON_OBJECT"
        parts: list[str] = []
        params: list[Any] = []
        if self.columns:
            # The first alias of a query is its own table (what ``Query.base_table`` answers,
            # read afresh: a subquery's aliases are renamed when it is nested).
            table = compiler.quote_name_unless_alias(next(iter(compiler.query.alias_map)))
            parts.extend(f"'{column}', {table}.{connection.ops.quote_name(column)}" for column in self.columns)
        for key, expression in zip(self.keys, self.get_source_expressions(), strict=True):
            sql, expression_params = compiler.compile(expression)
            parts.append(f"'{key}', {sql}")
            params.extend(expression_params)
        return f"{function}({', '.join(parts)})", tuple(params)


class JSONArrayAgg(Aggregate):
    """The group's values as one JSON array (``json_group_array`` on SQLite, ``jsonb_agg`` on PostgreSQL)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra)


def json_rows(queryset: QuerySet[Any], *, columns: Sequence[str] = (), **fields: Any) -> Subquery:
    """A subquery answering ``queryset``'s rows (already narrowed to one contact) as JSON objects
    (see ``JSONFields`` for ``columns`` and ``fields``)."""
    rows = queryset.order_by().values("contact_id").annotate(rows=JSONArrayAgg(JSONFields(columns=columns, **fields)))
    return Subquery(rows.values("rows"), output_field=JSONField())


def model_json_rows(queryset: QuerySet[Any], **fields: Any) -> Subquery:
    """``json_rows`` with every concrete field of the rows' model (and ``fields``);
    ``models_from_json`` reads them back."""
    concrete = queryset.model._meta.concrete_fields
    if any(field.column != field.attname for field in concrete):
        raise ValueError("model_json_rows reads fields back by their attribute names: columns must match.")
    return json_rows(queryset, columns=[field.column for field in concrete], **fields)


def json_datetime(value: str | None) -> datetime | None:
    """A datetime from a JSON row: ISO text on PostgreSQL, naive UTC text on SQLite."""
    parsed = parse_datetime(value) if value else None
    return timezone.make_aware(parsed, UTC) if parsed is not None and timezone.is_naive(parsed) else parsed


def models_from_json(model: type[RowT], rows: Iterable[Mapping[str, Any]] | None) -> list[RowT]:
    """Instances of ``model`` from ``model_json_rows``'s objects, as if loaded by a query.

    JSON carries text where the database driver would convert: datetimes (naive UTC text on
    SQLite), SQLite's 0/1 booleans and its JSON columns (nested as text there).
    """
    instances = []
    for row in rows or []:
        # Fields the rows leave out are deferred (loaded on access), as with ``only()``.
        fields = [field for field in model._meta.concrete_fields if field.attname in row]
        names = [field.attname for field in fields]
        values = []
        for field in fields:
            value = row.get(field.attname)
            if value is not None:
                if isinstance(field, JSONField):
                    value = json.loads(value) if isinstance(value, str) and connection.vendor == "sqlite" else value
                elif isinstance(field, DateTimeField):
                    value = json_datetime(value)
                else:
                    value = field.to_python(value)
            values.append(value)
        instances.append(model.from_db(connection.alias, names, values))
    return instances


@dataclass(frozen=True)
class ContactCard:
    """A contact with what the contact page's header card lists: its methods and tag names."""

    contact: Contact
    methods: list[ContactMethod]
    tags: list[str]


# The contact page's contact query and the organization page's organization query, compiled
# once per shape (``_user_shape``).
_stored_cards: StoredQueries[Contact] = StoredQueries(Contact)
_stored_organizations: StoredQueries[Organization] = StoredQueries(Organization)


def _user_shape(user: Any, annotations_shape: Hashable) -> Hashable:
    """Everything the SQL of a user's stored contact card or organization query depends on:
    the database, who the user is (their id appears in the reminders' and the bell's
    subqueries), their roles, the teams they see and manage, and what the caller's
    annotations depend on besides the user."""
    team_ids = visible_team_ids(user)
    return (
        connection.alias,
        user.pk,
        user.is_active,
        roles.is_admin(user),
        roles.role_names(user),
        None if team_ids is None else tuple(team_ids),
        tuple(sorted(managed_team_ids(user))),
        annotations_shape,
    )


def contact_card_get(
    *,
    user: Any,
    pk: int,
    annotations: Callable[[], Mapping[str, Any]] = dict,
    annotations_shape: Hashable = (),
) -> ContactCard:
    """``contact_get`` with the contact's methods (primary first) and tag names, in one query.

    The methods and tags come as JSON arrays from correlated subqueries rather than two
    more queries: the contact page's budget is ten queries for everything, panels included.
    ``annotations()`` (the panels' prefetches, the header's bell) join the same query; they
    may depend on the user and on ``annotations_shape`` only, and take the time from
    ``RequestNow``: the query is compiled once per shape (``socialcrm.stored_queries``).
    """

    def build(contact_pk: int) -> QuerySet[Contact]:
        methods = json_rows(
            ContactMethod.objects.filter(contact_id=OuterRef("pk")),
            id="id",
            kind="kind",
            value="value",
            normalized="normalized",
            label="label",
            is_primary="is_primary",
        )
        tags = json_rows(Contact.tags.through.objects.filter(contact_id=OuterRef("pk")), name="tag__name")
        return (
            visible_contacts(user)
            .select_related("organization", "owner", "team")
            .annotate(card_methods=methods, card_tags=tags, **annotations())
            .filter(pk=contact_pk)
        )

    contact: Any = _stored_cards.first(_user_shape(user, annotations_shape), build, pk)
    if contact is None:
        raise Http404("No such contact.")
    method_rows = sorted(contact.card_methods or [], key=lambda row: (row["kind"], not row["is_primary"], row["id"]))
    return ContactCard(
        contact=contact,
        methods=[
            ContactMethod(contact=contact, team_id=contact.team_id, **{**row, "is_primary": bool(row["is_primary"])})
            for row in method_rows
        ],
        tags=sorted(row["name"] for row in contact.card_tags or []),
    )


def organization_get(
    *,
    user: Any,
    pk: int,
    annotations: Callable[[], Mapping[str, Any]] = dict,
    annotations_shape: Hashable = (),
) -> Organization:
    """The organization ``pk`` if ``user`` may see it (Http404 otherwise), with ``annotations()``
    (the header's bell on the organization page) in the same query, compiled once per shape
    as ``contact_card_get``'s: the annotations depend on the user and ``annotations_shape`` only."""

    def build(organization_pk: int) -> QuerySet[Organization]:
        organizations = visible_organizations(user).select_related("team").annotate(**annotations())
        return organizations.filter(pk=organization_pk)

    organization = _stored_organizations.first(_user_shape(user, ("organization", annotations_shape)), build, pk)
    if organization is None:
        raise Http404("No such organization.")
    return organization


# --- The timeline ------------------------------------------------------------------------

TIMELINE_PAGE_SIZE = 25
# Columns of the rows a timeline page brings along that its entries never show: left unread
# (decoding the dates of 26 actors and contacts was a good part of the page's query).
_TIMELINE_ACTOR_UNREAD = ("actor__password", "actor__last_login", "actor__date_joined")
_TIMELINE_CONTACT_UNREAD = tuple(
    f"contact__{name}"
    for name in (
        "created_at",
        "updated_at",
        "notes",
        "location",
        "cadence_days",
        "last_contacted_at",
        "last_inbound_at",
        "last_outbound_at",
        "cadence_due_at",
        "reply_due_at",
    )
)


@dataclass(frozen=True)
class TimelinePage:
    activities: list[Activity]
    next_cursor: TimelineCursor | None


# The timeline pages' queries, compiled once per shape (``_keyset_page``).
_stored_timelines: StoredQueries[Activity] = StoredQueries(Activity)


def _keyset_page(
    shape: Hashable,
    activities: Callable[[Any], QuerySet[Activity]],
    owner: int,
    before: TimelineCursor | None,
    kinds: Iterable[str] | None,
    limit: int,
) -> TimelinePage:
    """A timeline page of ``activities(owner)`` (the id of the contact or organization the
    page is of, as a query value), its SQL stored under ``shape`` (what else it depends on)
    with whether it has a cursor and a kinds filter, run with the owner, cursor and kinds.

    The kinds are padded to one width (repeating the last), so that every filter has one
    shape; more kinds than there are (never from the page's filters) take a shape each."""
    chosen = list(dict.fromkeys(kinds or ()))
    width = max(len(chosen), len(Activity.Kind)) if chosen else 0
    values: dict[str, Any] = {f"kind{i}": chosen[min(i, len(chosen) - 1)] for i in range(width)}
    if before is not None:
        values.update(before_at=before.occurred_at, before_id=before.id)

    def build(value: Mapping[str, Any]) -> QuerySet[Activity]:
        queryset = activities(value["owner"])
        if width:
            queryset = queryset.filter(kind__in=[value[f"kind{i}"] for i in range(width)])
        after = None if before is None else (value["before_at"], value["before_id"])
        return newest_first_query(queryset, after=after, limit=limit)

    key = (connection.alias, shape, width, before is not None, limit)
    rows, next_cursor = newest_first_page(_stored_timelines.rows(key, build, owner=owner, **values), limit)
    return TimelinePage(rows, next_cursor)


def timeline_page(
    *,
    user: Any,
    contact: Contact,
    before: TimelineCursor | None = None,
    kinds: Iterable[str] | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """One page of ``contact``'s timeline, newest first, strictly older than ``before``.

    Keyset pagination on (occurred_at, id) over ``activity_timeline_idx``: page 1000 costs
    what page 1 costs, and rows added meanwhile never shift a page. One query, compiled once
    per shape (``_keyset_page``; it does not depend on the user).
    ``contact`` comes from ``contact_get``; it is checked again against ``user`` (no query).
    """
    team_ids = visible_team_ids(user)
    if team_ids is not None and contact.team_id not in team_ids:
        raise Http404("No such contact.")

    def activities(contact_pk: Any) -> QuerySet[Activity]:
        return Activity.objects.filter(contact_id=contact_pk).select_related("actor").defer(*_TIMELINE_ACTOR_UNREAD)

    return _keyset_page("contact", activities, contact.pk, before, kinds, limit)


def organization_timeline_page(
    *,
    user: Any,
    organization: Organization,
    before: TimelineCursor | None = None,
    kinds: Iterable[str] | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """One page of the combined timeline of the organization's people ``user`` may see. One query,
    compiled once per shape (``_keyset_page``: the teams ``user`` sees are part of it).

    Reads ``activity_org_timeline_idx`` (organization, -occurred_at, -id): the entries carry
    their contact's organization (kept in step by the database), so a page reads its own
    rows whatever the size of the organization rather than every entry of every person.
    """
    team_ids = visible_team_ids(user)

    def activities(organization_pk: Any) -> QuerySet[Activity]:
        queryset = Activity.objects.filter(organization_id=organization_pk)
        if team_ids is not None:
            queryset = queryset.filter(contact__team_id__in=team_ids)
        return queryset.select_related("actor", "contact").defer(*_TIMELINE_ACTOR_UNREAD, *_TIMELINE_CONTACT_UNREAD)

    shape = ("organization", None if team_ids is None else tuple(team_ids))
    return _keyset_page(shape, activities, organization.pk, before, kinds, limit)


# What the organization page shows of its people (their names, titles and privacy rules).
_PERSON_SHOWN = ("team_id", "organization_id", "first_name", "last_name", "display_name", "title", "archived")


def organization_people(*, user: Any, organization: Organization, limit: int = 200) -> list[Contact]:
    """The organization's people that ``user`` may see, by name, at most ``limit`` (one query),
    with the columns the page shows only (up to 200 rows: their other dates and notes cost
    more to decode than the rest of the query)."""
    people = visible_contacts(user).filter(organization_id=organization.pk).only(*_PERSON_SHOWN)
    return list(people.order_by("archived", "display_name", "id")[:limit])


def activity_get(*, user: Any, pk: int) -> Activity:
    """The timeline entry ``pk`` if ``user`` may see its contact; Http404 otherwise."""
    activity = (
        Activity.objects.filter(pk=pk, contact__in=visible_contacts(user)).select_related("contact", "actor").first()
    )
    if activity is None:
        raise Http404("No such timeline entry.")
    return activity


# --- The contact and organization lists -------------------------------------------------

LIST_PAGE_SIZE = 50
# Lists say "1,000+" rather than count every row of a huge table.
LIST_COUNT_CAP = 1000


@dataclass(frozen=True)
class SortOrder:
    """One way to order a list: a column (or annotation) then ``id`` as the tie-breaker."""

    key: str
    descending: bool = False
    nullable: bool = False
    value_type: type = str

    def ordering(self) -> list[Any]:
        column = F(self.key).desc(nulls_last=True) if self.descending else F(self.key).asc(nulls_last=True)
        return [column, "-id" if self.descending else "id"]

    def after(self, value: Any, pk: int) -> Q:
        """Rows strictly after (value, pk) in this order; NULLs come last in both directions."""
        op = "lt" if self.descending else "gt"
        if value is None:
            return Q(**{f"{self.key}__isnull": True, f"id__{op}": pk})
        after = Q(**{f"{self.key}__{op}": value}) | Q(**{self.key: value, f"id__{op}": pk})
        if self.nullable:
            return after | Q(**{f"{self.key}__isnull": True})
        # The redundant bound lets the database start an index range scan at the cursor.
        return Q(**{f"{self.key}__{op}e": value}) & after


def _both_ways(name: str, key: str, *, nullable: bool = False, value_type: type = str) -> dict[str, SortOrder]:
    return {
        name: SortOrder(key, False, nullable, value_type),
        f"-{name}": SortOrder(key, True, nullable, value_type),
    }


RELEVANCE = "relevance"
CONTACT_SORTS: dict[str, SortOrder] = {
    **_both_ways("name", "display_name"),
    **_both_ways("organization", "organization_name", nullable=True),
    **_both_ways("last_contacted", "last_contacted_at", nullable=True, value_type=datetime),
    **_both_ways("created", "created_at", value_type=datetime),
    # Only with a search on PostgreSQL (contacts.search annotates search_rank).
    RELEVANCE: SortOrder("search_rank", True, False, float),
}
ORGANIZATION_ORDER = SortOrder("name")


def encode_list_cursor(sort: str, value: Any, pk: int) -> str:
    """An opaque, URL-safe cursor: the sort it belongs to, the last row's sort value and id."""
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_list_cursor(raw: str | None, sort: str, order: SortOrder) -> tuple[Any, int] | None:
    """(value, id) from a cursor made for ``sort``; None when missing, malformed or for another sort."""
    if not raw:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        cursor_sort, value, pk = decoded
        if cursor_sort != sort or not isinstance(pk, int):
            return None
        if value is None:
            return (None, pk) if order.nullable else None
        if order.value_type is datetime:
            return datetime.fromisoformat(value), pk
        if order.value_type is float:
            return float(value), pk
        return (value, pk) if isinstance(value, str) else None
    except (ValueError, TypeError, binascii.Error):
        return None


@dataclass(frozen=True)
class ListPage(Generic[RowT]):
    rows: list[RowT]
    sort: str
    next_cursor: str | None
    # ``count`` rows match, or at least that many when ``count_capped``.
    count: int
    count_capped: bool
    is_first: bool


def keyset_page(
    queryset: QuerySet[RowT],
    *,
    sort: str,
    order: SortOrder,
    after: str | None,
    limit: int = LIST_PAGE_SIZE,
    cap: int = LIST_COUNT_CAP,
) -> ListPage[RowT]:
    """One page of ``queryset`` in ``order``, strictly after the cursor ``after`` (no OFFSET).

    Rows inserted or deleted between requests never shift a page. One query: the page (one
    row more than ``limit`` says whether there is a next one) with, as an uncorrelated
    subquery the database runs once, the count of every match, which stops at ``cap``.
    """
    position = decode_list_cursor(after, sort, order)
    page = queryset if position is None else queryset.filter(order.after(*position))
    # COUNT(*) over the first cap + 1 matches' ids: the database stops reading at the cap.
    try:
        capped_sql, capped_params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
    except EmptyResultSet:
        # Filters that can match nothing (e.g. a salesperson in no team yet): an empty page.
        return ListPage([], sort, None, 0, False, position is None)
    # Django's own compiled SQL; the values stay parameters.
    count_sql = f"SELECT COUNT(*) FROM ({capped_sql}) AS capped"  # noqa: S608
    counted = RawSQL(count_sql, capped_params, output_field=IntegerField())  # noqa: S611
    with_count = page.annotate(list_count=counted)
    rows = list(with_count.order_by(*order.ordering())[: limit + 1])
    has_next = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_list_cursor(sort, getattr(rows[-1], order.key), rows[-1].pk) if has_next else None
    counted_rows = getattr(rows[0], "list_count", 0) if rows else 0
    count, capped = min(counted_rows, cap), counted_rows > cap
    return ListPage(rows, sort, next_cursor, count, capped, position is None)


def assignable_users(*, user: Any) -> QuerySet[User]:
    """Active members of the teams ``user`` sees: who may own (or be assigned) their contacts."""
    team_ids = visible_team_ids(user)
    members = User.objects.filter(is_active=True)
    members = members.filter(teams__isnull=False) if team_ids is None else members.filter(teams__in=team_ids)
    return members.distinct().order_by("first_name", "last_name", "email")


def contact_filter(*, user: Any, data: Mapping[str, Any] | None, for_page: bool = False) -> ContactFilter:
    """The contact list's FilterSet over what ``user`` sees, every choice limited to it too.

    Invalid values (such as another team's organization id) are form errors and filter nothing.
    ``for_page``: for ``contact_list_page``; listed by relevance, a search ranks at most
    ``LIST_COUNT_CAP + 1`` matches (what the count shows: "1,000+"), the best kinds first
    (``contacts.search``), so its cost stops growing with the number of matches.
    """
    team_ids = visible_team_ids(user)
    tags = Tag.objects.all() if team_ids is None else Tag.objects.filter(team_id__in=team_ids)
    by_relevance = contact_list_sort((data or {}).get("sort"), searching=True) == RELEVANCE
    return ContactFilter(
        data,
        visible_contacts(user),
        teams=visible_teams(user),
        owners=assignable_users(user=user),
        tags=tags.order_by("name", "id"),
        search_limit=LIST_COUNT_CAP + 1 if for_page and by_relevance else None,
    )


def contact_list(*, user: Any, filters: Mapping[str, Any] | None = None) -> QuerySet[Contact]:
    """Contacts ``user`` sees that match ``filters`` (the list's query string), unordered."""
    return contact_filter(user=user, data=filters).qs


def contact_list_sort(requested: str | None, *, searching: bool) -> str:
    """The sort to use: the requested one if known, else by relevance when ``searching``, else by name.

    ``searching``: a ranked search is running (``contacts.search.search_is_ranked(term)``).
    """
    if requested in CONTACT_SORTS and requested != RELEVANCE:
        return requested
    return RELEVANCE if searching and search_is_ranked() else "name"


# What a list row shows (the rest is deferred): fewer columns to read, convert and copy into
# the 150 model instances of a page.
LIST_CONTACT_FIELDS = (
    "team_id",
    "display_name",
    "title",
    "archived",
    "last_contacted_at",
    "created_at",
    "organization__name",
    "owner__first_name",
    "owner__last_name",
    "owner__email",
)


def contact_list_page(
    *, contacts: QuerySet[Contact], sort: str, after: str | None = None, limit: int | None = None
) -> ListPage[Contact]:
    """A page of ``contacts`` (from ``contact_list``) with what the list shows: one query.

    The primary email is a correlated subquery rather than a prefetch: one query fewer,
    and it reads at most ``limit`` rows of the (contact, kind, normalized) index.
    """
    primary_email = (
        ContactMethod.objects.filter(contact_id=OuterRef("pk"), kind=ContactMethod.Kind.EMAIL)
        .order_by("-is_primary", "id")
        .values("value")[:1]
    )
    rows = (
        contacts.select_related("organization", "owner")
        .only(*LIST_CONTACT_FIELDS)
        .annotate(organization_name=F("organization__name"), primary_email=Subquery(primary_email))
    )
    return keyset_page(rows, sort=sort, order=CONTACT_SORTS[sort], after=after, limit=limit or LIST_PAGE_SIZE)


def organization_filter(*, user: Any, data: Mapping[str, Any] | None) -> OrganizationFilter:
    """The organization list's FilterSet over the organizations ``user`` sees."""
    return OrganizationFilter(data, visible_organizations(user))


def organization_list_page(
    *, user: Any, organizations: QuerySet[Organization], after: str | None = None
) -> ListPage[Organization]:
    """A page of ``organizations`` by name, with how many active people ``user`` sees in each.

    At most two queries; the people count is a correlated subquery over ``contact_org_name_idx``.
    """
    people = (
        visible_contacts(user)
        .filter(organization_id=OuterRef("pk"), archived=False)
        .order_by()
        .values("organization_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = organizations.select_related("team").annotate(people=Coalesce(Subquery(people), 0))
    return keyset_page(rows, sort="name", order=ORGANIZATION_ORDER, after=after)


def saved_views(*, user: Any) -> QuerySet[SavedView]:
    """The user's own saved contact-list views, by name."""
    return SavedView.objects.filter(user_id=user.pk).order_by("name", "id")


def saved_view_get(*, user: Any, pk: int) -> SavedView:
    """The saved view ``pk`` if it is ``user``'s; Http404 otherwise."""
    view = saved_views(user=user).filter(pk=pk).first()
    if view is None:
        raise Http404("No such saved view.")
    return view
