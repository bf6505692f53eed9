"""Being a good citizen towards providers: rate limits, hold-offs, backoff and circuit breakers.

- **Rate limit**: a token bucket per provider (``ENRICHMENT_RATE_PER_SECOND`` lookups a
  second, bursts of ``ENRICHMENT_RATE_BURST``). With ``REDIS_URL`` the bucket lives in Redis
  and is updated by one Lua script (Redis's own clock), so the limit holds across every
  worker process; without Redis it is per process (development only).
- **Hold-off**: when a provider answers with ``Retry-After`` / ``X-RateLimit-Reset`` (the
  client's ``FetchError.retry_after``), nobody asks it again before that time.
- **Backoff**: retries wait exponentially longer, with jitter so workers do not retry in step.
- **Circuit breaker**: ``ProviderState`` rows (shared through the database). After
  ``ENRICHMENT_BREAKER_FAILURES`` consecutive failures a provider is skipped for
  ``ENRICHMENT_BREAKER_MINUTES``; after that one lookup is let through, and one success closes it.

A token is taken per HTTP request a provider makes (``pipeline.Throttled``); DNS queries
take none.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

import redis
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from enrichment.models import ProviderState

KEY_PREFIX = "socialcrm:enrichment:rate:"
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0

# KEYS[1] bucket, KEYS[2] hold-off; ARGV rate/s, burst. Returns the seconds to wait (0: go).
BUCKET_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local held = tonumber(redis.call('GET', KEYS[2]) or '0')
if held > now then return tostring(held - now) end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""

HOLD_OFF_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > held then redis.call('SET', KEYS[1], tostring(until_), 'EX', math.ceil(tonumber(ARGV[1])) + 1) end
return 1
"""


class Limiter(Protocol):
    def acquire(self, provider: str) -> float: ...

    def hold_off(self, provider: str, seconds: float) -> None: ...


class RedisLimiter:
    """Token buckets and hold-offs in Redis: one limit for every worker."""

    def __init__(self, url: str, *, prefix: str = KEY_PREFIX) -> None:
        self._prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        self._bucket = self._redis.register_script(BUCKET_LUA)
        self._hold = self._redis.register_script(HOLD_OFF_LUA)

    def acquire(self, provider: str) -> float:
        keys = [f"{self._prefix}{provider}", f"{self._prefix}{provider}:hold"]
        rate, burst = _rate()
        return float(self._bucket(keys=keys, args=[rate, burst]))

    def hold_off(self, provider: str, seconds: float) -> None:
        self._hold(keys=[f"{self._prefix}{provider}:hold"], args=[max(0.001, seconds)])


class LocalLimiter:
    """The same rules in this process only (no Redis: development and unit tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._held: dict[str, float] = {}

    def acquire(self, provider: str) -> float:
        rate, burst = _rate()
        with self._lock:
            now = time.monotonic()
            held = self._held.get(provider, 0.0)
            if held > now:
                return held - now
            tokens, stamp = self._buckets.get(provider, (burst, now))
            tokens = min(burst, tokens + max(0.0, now - stamp) * rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate
            self._buckets[provider] = (tokens, now)
            return wait

    def hold_off(self, provider: str, seconds: float) -> None:
        with self._lock:
            until = time.monotonic() + seconds
            self._held[provider] = max(self._held.get(provider, 0.0), until)


def _rate() -> tuple[float, float]:
    return float(settings.ENRICHMENT_RATE_PER_SECOND), float(max(1, settings.ENRICHMENT_RATE_BURST))


@cache
def _limiter_for(url: str) -> Limiter:
    return RedisLimiter(url) if url else LocalLimiter()


def limiter() -> Limiter:
    """The process's limiter: Redis-backed when ``REDIS_URL`` is set."""
    return _limiter_for(settings.REDIS_URL or "")


def reset_limits() -> None:
    """Forget every bucket and hold-off, in Redis too (tests, or after changing the rates)."""
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(f"{KEY_PREFIX}*"):
            client.delete(key)
    _limiter_for.cache_clear()


def retry_delay(retries: int, retry_after: float | None = None) -> float:
    """Seconds before retry number ``retries + 1``: exponential, jittered, at least ``retry_after``."""
    backoff = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries)
    jittered = random.uniform(backoff / 2, backoff)  # noqa: S311 - jitter, not security
    return max(jittered, retry_after or 0.0)


# --- circuit breakers -----------------------------------------------------------------------


def open_breakers(now: datetime | None = None) -> dict[str, datetime]:
    """Providers whose breaker is open now, with when it closes (one query)."""
    now = now or timezone.now()
    rows = ProviderState.objects.filter(opened_until__gt=now).values_list("provider", "opened_until")
    return {provider: until for provider, until in rows if until is not None}


def breaker_failure(provider: str, now: datetime | None = None) -> bool:
    """Count a failed lookup; open the breaker at the threshold. Returns whether it is open now."""
    now = now or timezone.now()
    ProviderState.objects.get_or_create(provider=provider)
    ProviderState.objects.filter(provider=provider).update(failures=F("failures") + 1)
    opened = ProviderState.objects.filter(provider=provider, failures__gte=settings.ENRICHMENT_BREAKER_FAILURES).update(
        opened_until=now + timedelta(minutes=settings.ENRICHMENT_BREAKER_MINUTES)
    )
    return bool(opened)


def breakers_succeeded(providers: list[str]) -> None:
    """Lookups worked: close those providers' breakers (one UPDATE, touching only dirty rows)."""
    if providers:
        ProviderState.objects.filter(provider__in=providers).exclude(failures=0, opened_until=None).update(
            failures=0, opened_until=None
        )
