"""Queries compiled once per shape and run again with each request's values.

Building a large ORM query (dozens of annotations, JSON subqueries) and compiling it to SQL
can cost more than running it. When a query's SQL depends only on a few things (the user's
roles and teams, the registered panels), ``StoredQueries`` keeps the compiled SQL and the
compiler's description of its columns under a key naming those things, and runs it again
with the values that change from one request to the next: the row's primary key (``first``)
or named values (``rows``: a page's owner and cursor, say), and the current time
(``RequestNow``). Rows are decoded by Django's own model iterable, as if the query had been
built afresh.

Whatever the SQL depends on must be in the key: a value left out of it would be answered
with another request's SQL.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import CharField, DateTimeField, Expression, Field, IntegerField, Model, QuerySet
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

ModelT = TypeVar("ModelT", bound=Model)

# Set while a query is compiled to be stored: ``RequestNow`` answers a slot, not a time.
_storing: ContextVar[bool] = ContextVar("stored_queries_storing", default=False)

# The primary key a stored query is compiled with, replaced by the real one at each run.
# Negative (no row has it) and within a 32-bit integer column's range (Django answers an
# empty result without SQL for values outside it).
PK_SLOT = -1_987_654_321


@dataclass(frozen=True)
class _TimeSlot:
    offset: timedelta


class RequestNow(Expression):
    """``timezone.now() + offset`` as a query parameter.

    Use it rather than a ``timezone.now()`` value in a query that may be stored: a stored
    query fills it in with the time of each run."""

    output_field = DateTimeField()

    def __init__(self, offset: timedelta = timedelta()) -> None:
        super().__init__()
        self.offset = offset

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        if _storing.get():
            return "%s", (_TimeSlot(self.offset),)
        return "%s", (connection.ops.adapt_datetimefield_value(timezone.now() + self.offset),)


@dataclass(frozen=True)
class _ValueSlot:
    name: str
    field: Field[Any, Any]


def _field_for(value: Any) -> Field[Any, Any]:
    if isinstance(value, datetime):
        return DateTimeField()
    if isinstance(value, int) and not isinstance(value, bool):
        return IntegerField()
    if isinstance(value, str):
        return CharField()
    raise TypeError(f"A stored query takes datetimes, integers and text, not {type(value).__name__}.")


class StoredValue(Expression):
    """The value named ``name`` of a run of a stored query (``StoredQueries.rows``), as a
    query parameter."""

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value
        super().__init__(output_field=_field_for(value))

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        if _storing.get():
            return "%s", (_ValueSlot(self.name, self.output_field),)
        return "%s", (self.output_field.get_db_prep_value(self.value, connection),)


@dataclass(frozen=True)
class _Stored:
    compiler: SQLCompiler
    alias: str
    sql: str
    params: tuple[Any, ...]
    pk_positions: tuple[int, ...]


class _CompiledQuery(Query):
    """A query that answers an already compiled compiler (for Django's model iterable)."""

    def __init__(self, model: type[Model], compiler: SQLCompiler) -> None:
        super().__init__(model)
        self.compiled = compiler

    def get_compiler(self, using: Any = None, connection: Any = None, elide_empty: bool = True) -> SQLCompiler:
        return self.compiled


class StoredQueries(Generic[ModelT]):
    """Compiled queries answering rows of ``model`` (one by primary key, ``first``, or a list
    by named values, ``rows``), by shape (at most ``size`` shapes in the process, the oldest
    forgotten first)."""

    def __init__(self, model: type[ModelT], *, size: int = 512) -> None:
        self.model = model
        self.size = size
        self._stored: dict[Hashable, _Stored] = {}

    def clear(self) -> None:
        self._stored.clear()

    def first(self, key: Hashable, build: Callable[[int], QuerySet[ModelT]], pk: int) -> ModelT | None:
        """The row ``build(pk)`` answers (its first), running the SQL stored under ``key``
        (``build(PK_SLOT)`` compiled the first time)."""
        stored = self._stored.get(key)
        if stored is None:
            stored = self._store(build(PK_SLOT)[:1])
            if not stored.pk_positions:
                raise ValueError("A stored query must filter by its primary key (PK_SLOT not among its parameters).")
            self._keep(key, stored)
        return next(self._run(stored, {}, pk), None)

    def rows(
        self, key: Hashable, build: Callable[[Mapping[str, StoredValue]], QuerySet[ModelT]], **values: Any
    ) -> list[ModelT]:
        """The rows ``build`` answers, running the SQL stored under ``key``.

        ``build`` takes each of ``values`` as a ``StoredValue`` expression, to filter by: the SQL
        is compiled the first time with slots in their place, filled in at each run. What
        ``build`` does with them (which names, which lookups) must be the same for a key."""
        stored = self._stored.get(key)
        if stored is None:
            slots = {name: StoredValue(name, value) for name, value in values.items()}
            stored = self._keep(key, self._store(build(slots)))
        return list(self._run(stored, values, None))

    def _keep(self, key: Hashable, stored: _Stored) -> _Stored:
        if len(self._stored) >= self.size:
            del self._stored[next(iter(self._stored))]
        self._stored[key] = stored
        return stored

    def _run(self, stored: _Stored, values: Mapping[str, Any], pk: int | None) -> Iterator[ModelT]:
        compiler = copy.copy(stored.compiler)
        compiler.connection = connections[stored.alias]
        params = self._params(stored, compiler, values, pk, timezone.now())
        compiler.as_sql = lambda *args, **kwargs: (stored.sql, params)  # type: ignore[method-assign]
        queryset: QuerySet[ModelT] = QuerySet(self.model, _CompiledQuery(self.model, compiler), using=stored.alias)
        return iter(queryset)

    @staticmethod
    def _store(queryset: QuerySet[ModelT]) -> _Stored:
        compiler = queryset.query.get_compiler(using=queryset.db)
        token = _storing.set(True)
        try:
            sql, params = compiler.as_sql()
        finally:
            _storing.reset(token)
        pk_positions = tuple(i for i, value in enumerate(params) if type(value) is int and value == PK_SLOT)
        return _Stored(compiler=compiler, alias=queryset.db, sql=sql, params=tuple(params), pk_positions=pk_positions)

    @staticmethod
    def _params(
        stored: _Stored, compiler: SQLCompiler, values: Mapping[str, Any], pk: int | None, now: datetime
    ) -> tuple[Any, ...]:
        connection = compiler.connection
        adapt = connection.ops.adapt_datetimefield_value
        params = [
            adapt(now + value.offset)
            if isinstance(value, _TimeSlot)
            else value.field.get_db_prep_value(values[value.name], connection)
            if isinstance(value, _ValueSlot)
            else value
            for value in stored.params
        ]
        for position in stored.pk_positions:
            params[position] = pk
        return tuple(params)
