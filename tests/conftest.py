"""Shared fixtures: the fixed cast of STYLE.md and fast test settings.

alice (sales) and bob (sales) are teammates in ``team``; mona manages ``team``;
charlie (sales) is in ``other_team``; ``dpo`` is the data-protection officer;
``admin`` is a superuser.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from consent import gate
from socialcrm import cache as degrading
from socialcrm.celery import app as celery_app
from socialcrm.models import Team, User
from socialcrm.roles import Role
from tests.factories import TeamFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def _fast_test_settings() -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Unit tests run tasks in-process; integration tests switch to a real worker.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    # No contact a test creates is looked up on the internet; enrichment's tests turn it on.
    settings.ENRICHMENT_AUTOMATIC = False
    # Production refuses to store mailbox passwords without their own key (contacts.E001).
    settings.EMAIL_ENCRYPTION_KEY = "mailbox-key-for-tests"


@pytest.fixture(autouse=True)
def _isolated_cache(settings: pytest.FixtureRequest) -> Iterator[None]:
    """Each test gets an empty in-memory cache, so rate limits never leak between tests."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # type: ignore[attr-defined]
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _purposes_do_not_age(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process purpose cache does not expire by age during a test.

    Within one process, saving a purpose clears the cache (a signal); the age limit only
    matters for changes made by other processes. Left on, it made query budgets flaky: a
    page's warm-up request could find the cache fresh and the measured one, a minute after
    the suite first loaded it, reload it.
    """
    monkeypatch.setattr(gate, "PURPOSE_CACHE_SECONDS", math.inf)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_cache_down(settings: Any) -> Iterator[None]:
    """The Redis cache backend of production, pointed at a port where nothing listens (an outage)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "socialcrm.cache.DegradingRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    degrading._DegradingClient._down_until = 0.0
    yield
    degrading._DegradingClient._down_until = 0.0


@pytest.fixture
def team(db: None) -> Team:
    return TeamFactory(name="Northwind sales")


@pytest.fixture
def other_team(db: None) -> Team:
    return TeamFactory(name="Southwind sales")


@pytest.fixture
def alice(team: Team) -> User:
    user = UserFactory(email="alice@staff.example", first_name="Alice", last_name="Archer", roles=[Role.SALES])
    team.members.add(user)
    return user


@pytest.fixture
def bob(team: Team) -> User:
    user = UserFactory(email="bob@staff.example", first_name="Bob", last_name="Baker", roles=[Role.SALES])
    team.members.add(user)
    return user


@pytest.fixture
def charlie(other_team: Team) -> User:
    user = UserFactory(email="charlie@staff.example", first_name="Charlie", last_name="Clark", roles=[Role.SALES])
    other_team.members.add(user)
    return user


@pytest.fixture
def mona(team: Team) -> User:
    user = UserFactory(email="mona@staff.example", first_name="Mona", last_name="Miller", roles=[Role.MANAGER])
    team.members.add(user)
    team.managers.add(user)
    return user


@pytest.fixture
def dpo(db: None) -> User:
    return UserFactory(email="dpo@staff.example", first_name="Dora", last_name="Privacy", roles=[Role.DPO])


@pytest.fixture
def admin(db: None) -> User:
    return UserFactory(email="admin@staff.example", is_staff=True, is_superuser=True)


@pytest.fixture
def client_for() -> Callable[[User | None], Client]:
    """A test client signed in as ``user`` (or anonymous for None)."""

    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make
