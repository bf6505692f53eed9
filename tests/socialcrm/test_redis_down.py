"""With REDIS_URL set, a Redis outage must not fail requests (the cache degrades).

No Redis is needed: the ``redis_cache_down`` fixture (tests/conftest.py) points the cache at a
loopback port where nothing listens.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from socialcrm import cache as degrading
from tests.factories import TEST_PASSWORD


@pytest.mark.usefixtures("redis_cache_down")
def test_the_cache_answers_like_an_empty_one_while_redis_is_down() -> None:
    cache.set("key", "value")

    assert cache.get("key", "missing") == "missing"
    assert cache.add("lock", True) is True
    assert cache.get_many(["key", "other"]) == {}
    assert cache.has_key("key") is False


@pytest.mark.usefixtures("redis_cache_down")
def test_after_one_failure_redis_is_not_asked_again_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.get("first")  # fails and opens the short circuit
    calls: list[str] = []
    monkeypatch.setattr(degrading.RedisCacheClient, "get", lambda self, key, default: calls.append(key) or default)

    cache.get("second")

    assert calls == []


@pytest.mark.usefixtures("redis_cache_down")
def test_signed_in_pages_still_answer(alice: Any) -> None:
    client = Client()
    client.force_login(alice)

    assert client.get(reverse("home")).status_code == 200


@pytest.mark.usefixtures("redis_cache_down")
def test_signing_in_still_works(alice: Any) -> None:
    client = Client()

    response = client.post(reverse("account_login"), {"login": alice.email, "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
