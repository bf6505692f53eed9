"""A Redis cache that degrades instead of failing while Redis is unreachable.

Sessions (``cached_db``), allauth's rate limits and enrichment's rate limits use the
cache. With Django's plain Redis backend a Redis outage turns every signed-in page into a
500, and the outbox exists precisely so that Redis being down never fails a request. Here,
while Redis is unreachable, reads miss, writes are dropped and ``add`` succeeds (so cache
locks and rate limits fail open rather than locking everyone out); sessions still load
from the database. After an error the cache skips Redis for ``RETRY_AFTER`` seconds, so a
page pays the connect timeout at most once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER = 5.0
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
T = TypeVar("T")


class _DegradingClient(RedisCacheClient):
    _down_until = 0.0

    def _guard(self, fallback: T, operation: Callable[[], T]) -> T:
        if time.monotonic() < _DegradingClient._down_until:
            return fallback
        try:
            return operation()
        except _UNREACHABLE as exc:
            _DegradingClient._down_until = time.monotonic() + RETRY_AFTER
            logger.warning("Redis cache unreachable, running without it for %ss: %s", RETRY_AFTER, exc)
            return fallback

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return self._guard(True, lambda: super(_DegradingClient, self).add(key, value, timeout))

    def get(self, key: Any, default: Any) -> Any:
        return self._guard(default, lambda: super(_DegradingClient, self).get(key, default))

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._guard(None, lambda: super(_DegradingClient, self).set(key, value, timeout))

    def touch(self, key: Any, timeout: Any) -> bool:
        return self._guard(False, lambda: super(_DegradingClient, self).touch(key, timeout))

    def delete(self, key: Any) -> bool:
        return self._guard(False, lambda: super(_DegradingClient, self).delete(key))

    def get_many(self, keys: Any) -> dict[Any, Any]:
        return self._guard({}, lambda: super(_DegradingClient, self).get_many(keys))

    def has_key(self, key: Any) -> bool:
        return self._guard(False, lambda: super(_DegradingClient, self).has_key(key))

    def incr(self, key: Any, delta: int) -> int:
        # As if the counter had just been created: counters restart, rate limits fail open.
        return self._guard(delta, lambda: super(_DegradingClient, self).incr(key, delta))

    def set_many(self, data: Any, timeout: Any) -> None:
        self._guard(None, lambda: super(_DegradingClient, self).set_many(data, timeout))

    def delete_many(self, keys: Any) -> None:
        self._guard(None, lambda: super(_DegradingClient, self).delete_many(keys))

    def clear(self) -> bool:
        return self._guard(False, lambda: super(_DegradingClient, self).clear())


class DegradingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _DegradingClient
