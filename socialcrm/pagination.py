"""Keyset pagination, newest first, on (timestamp, id): no OFFSET, stable under inserts.

Page 1000 costs what page 1 costs, and rows added between two page loads never shift a
page: the next page starts strictly after the last row shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

RowT = TypeVar("RowT", bound=Model)


@dataclass(frozen=True)
class TimeCursor:
    """Where a page ends: the (timestamp, id) of its last row.

    Encoded as ``<epoch microseconds>_<id>`` (integers only, so it round-trips exactly and
    needs no URL escaping).
    """

    occurred_at: datetime
    id: int

    @classmethod
    def of(cls, row: Any, field: str = "occurred_at") -> TimeCursor:
        return cls(getattr(row, field), row.pk)

    def encode(self) -> str:
        delta = self.occurred_at - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> TimeCursor | None:
        """The cursor ``raw`` encodes, or None when it is missing or malformed."""
        if not raw:
            return None
        micros, _, pk = raw.partition("_")
        try:
            return cls(_EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except (ValueError, OverflowError):
            return None


def newest_first(
    queryset: QuerySet[RowT], *, before: TimeCursor | None, limit: int, field: str = "occurred_at"
) -> tuple[list[RowT], TimeCursor | None]:
    """One page of ``queryset`` ordered by (``field``, id) descending, strictly after ``before``.

    Returns the rows and the cursor of the next page (None on the last page). One query:
    it fetches one row more than the page to know whether another page follows.
    """
    after = None if before is None else (before.occurred_at, before.id)
    return newest_first_page(list(newest_first_query(queryset, after=after, limit=limit, field=field)), limit, field)


def newest_first_query(
    queryset: QuerySet[RowT], *, after: tuple[Any, Any] | None, limit: int, field: str = "occurred_at"
) -> QuerySet[RowT]:
    """The query of ``newest_first``: ``after`` is the cursor's (timestamp, id), as values
    or as expressions (a stored query's ``StoredValue``)."""
    if after is not None:
        # The redundant ``field <= t`` bounds the index range scan; the OR breaks ties on
        # id, so rows sharing a timestamp are neither repeated nor skipped.
        at, pk = after
        queryset = queryset.filter(**{f"{field}__lte": at}).filter(Q(**{f"{field}__lt": at}) | Q(id__lt=pk))
    return queryset.order_by(f"-{field}", "-id")[: limit + 1]


def newest_first_page(rows: list[RowT], limit: int, field: str = "occurred_at") -> tuple[list[RowT], TimeCursor | None]:
    """The page and next cursor of the rows ``newest_first_query`` answers."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], TimeCursor.of(rows[limit - 1], field)
