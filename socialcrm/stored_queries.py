"""Queries compiled once per shape and run again with each request's values.

Building a large ORM query (dozens of annotations, JSON subqueries) and compiling it to SQL
can cost more than running it. When a query's SQL depends only on a few things (the user's
roles and teams, the registered panels), ``StoredQueries`` keeps the compiled SQL and the
compiler's description of its columns under a key naming those things, and runs it again
with the two values that change from one request to the next: the row's primary key and the
current time (``RequestNow``). Rows are decoded by Django's own model iterable, as if the
query had been built afresh.

Whatever the SQL depends on must be in the key: a value left out of it would be answered
with another request's SQL.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import DateTimeField, Expression, Model, QuerySet
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
    """Compiled queries answering one row of ``model`` by primary key, by shape (at most
    ``size`` shapes in the process, the oldest forgotten first)."""

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
            if len(self._stored) >= self.size:
                del self._stored[next(iter(self._stored))]
            self._stored[key] = stored
        compiler = copy.copy(stored.compiler)
        compiler.connection = connections[stored.alias]
        params = self._params(stored, compiler, pk, timezone.now())
        compiler.as_sql = lambda *args, **kwargs: (stored.sql, params)  # type: ignore[method-assign]
        queryset: QuerySet[ModelT] = QuerySet(self.model, _CompiledQuery(self.model, compiler), using=stored.alias)
        return next(iter(queryset), None)

    @staticmethod
    def _store(queryset: QuerySet[ModelT]) -> _Stored:
        compiler = queryset.query.get_compiler(using=queryset.db)
        token = _storing.set(True)
        try:
            sql, params = compiler.as_sql()
        finally:
            _storing.reset(token)
        pk_positions = tuple(i for i, value in enumerate(params) if type(value) is int and value == PK_SLOT)
        if not pk_positions:
            raise ValueError("A stored query must filter by its primary key (PK_SLOT not among its parameters).")
        return _Stored(compiler=compiler, alias=queryset.db, sql=sql, params=tuple(params), pk_positions=pk_positions)

    @staticmethod
    def _params(stored: _Stored, compiler: SQLCompiler, pk: int, now: datetime) -> tuple[Any, ...]:
        adapt = compiler.connection.ops.adapt_datetimefield_value
        params = [adapt(now + value.offset) if isinstance(value, _TimeSlot) else value for value in stored.params]
        for position in stored.pk_positions:
            params[position] = pk
        return tuple(params)
