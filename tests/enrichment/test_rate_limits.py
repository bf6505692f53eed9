"""Rate limits: the Redis token bucket shared by every worker, and a token per request."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
import respx
from django.conf import settings as django_settings

from enrichment import resilience
from enrichment.http import Client
from enrichment.pipeline import Deferred, Throttled


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own on REDIS_URL's server; its keys are deleted afterwards."""
    prefix = f"test:enrichment:rate:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


@pytest.mark.integration
@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis: set REDIS_URL=redis://127.0.0.1:6379/<n>")
def test_the_redis_bucket_is_one_limit_for_every_worker(prefix: str, settings: Any) -> None:
    settings.ENRICHMENT_RATE_PER_SECOND = 2
    settings.ENRICHMENT_RATE_BURST = 3
    # Two limiters: two worker processes, each with its own connection, one bucket.
    first = resilience.RedisLimiter(django_settings.REDIS_URL, prefix=prefix)
    second = resilience.RedisLimiter(django_settings.REDIS_URL, prefix=prefix)

    waits = [first.acquire("gravatar"), second.acquire("gravatar"), first.acquire("gravatar")]
    assert waits == [0.0, 0.0, 0.0]  # the burst
    assert 0.4 < second.acquire("gravatar") <= 0.5  # the other worker sees the burst spent
    assert first.acquire("github") == 0.0  # per provider

    time.sleep(0.6)  # refills at 2 tokens a second
    assert second.acquire("gravatar") == 0.0


@pytest.mark.integration
@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis: set REDIS_URL=redis://127.0.0.1:6379/<n>")
def test_a_redis_hold_off_holds_every_worker_off(prefix: str) -> None:
    first = resilience.RedisLimiter(django_settings.REDIS_URL, prefix=prefix)
    second = resilience.RedisLimiter(django_settings.REDIS_URL, prefix=prefix)

    first.hold_off("github", 30)
    first.hold_off("github", 5)  # a shorter hold-off never shortens a longer one

    assert 29 < second.acquire("github") <= 30
    assert second.acquire("gravatar") == 0.0


def test_the_throttled_client_takes_a_token_per_request(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.ENRICHMENT_RATE_PER_SECOND = 0.01  # a token per 100 s: any wait is too long to sleep through
    settings.ENRICHMENT_RATE_BURST = 2
    local = resilience.LocalLimiter()
    monkeypatch.setattr(resilience, "limiter", lambda: local)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get("https://api.example/a").respond(200, json={})
        with Client(transport=httpx.MockTransport(router.handler)) as client:
            throttled = Throttled(client, "github")
            throttled.get("https://api.example/a")
            throttled.get_json("https://api.example/a")
            with pytest.raises(Deferred) as deferred:
                throttled.get("https://api.example/a")

    assert route.call_count == 2  # the third request was not sent
    assert deferred.value.retry_after is not None and deferred.value.retry_after > 90
    assert local.acquire("gravatar") == 0.0  # another provider's bucket is untouched
