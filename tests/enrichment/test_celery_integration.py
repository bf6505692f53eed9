"""Enrichment through a real Celery worker consuming a real Redis, against fake providers on loopback.

Needs REDIS_URL and PostgreSQL (see tests/socialcrm/test_celery_integration.py for why).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings

from contacts.models import Activity
from contacts.services.contacts import contact_create
from enrichment.models import ProviderCheck, SocialProfile
from socialcrm.celery import app as celery_app
from socialcrm.models import Team, User
from tests.enrichment.fake_providers import FakeProviders, fake_providers
from tests.socialcrm.brokers import broker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not django_settings.REDIS_URL, reason="needs a Redis broker: set REDIS_URL=redis://127.0.0.1:6379/<n>"
    ),
    pytest.mark.skipif(
        django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL (DATABASE_URL): the worker thread and the test both write the database",
    ),
    # The flush after a transactional test removes seeded rows; post_migrate receivers put
    # purposes and role groups back (serialized_rollback would clash with them).
    pytest.mark.django_db(transaction=True),
]


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def providers(settings: Any) -> Iterator[FakeProviders]:
    with fake_providers(latency=0.05) as fake:
        settings.ENRICHMENT_AUTOMATIC = True
        settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = True
        settings.ENRICHMENT_GRAVATAR_URL = f"{fake.base}/gravatar"
        settings.ENRICHMENT_GITHUB_API_URL = f"{fake.base}/github"
        settings.ENRICHMENT_RATE_PER_SECOND = 1000
        settings.ENRICHMENT_RATE_BURST = 1000
        yield fake


def test_a_created_contact_is_enriched_by_the_worker_after_commit(
    providers: FakeProviders, team: Team, alice: User
) -> None:
    with broker(django_settings.REDIS_URL):
        celery_app.control.purge()
        with start_worker(
            celery_app, pool="solo", queues=["enrichment"], perform_ping_check=False, shutdown_timeout=30
        ):
            contact = contact_create(
                actor=alice,
                team=team,
                first_name="Ada",
                emails=["ada.example.person@gmail.com"],  # free mail: no company lookup
                websites=[providers.site("ada")],
                handles=["github:ada"],
            )
            assert wait_for(lambda: ProviderCheck.objects.filter(contact=contact).count() >= 3)

    networks = set(SocialProfile.objects.filter(contact=contact).values_list("network", flat=True))
    assert networks == {"gravatar", "github", "website"}
    assert SocialProfile.objects.get(contact=contact, network="github").verified is True
    assert Activity.objects.filter(contact=contact, kind=Activity.Kind.PROFILE_FOUND).count() == 1
    assert len(providers.requests) == 3
