"""The enrichment task end to end in-process: gate, suppression, providers over respx, upserts, checks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from django.db import transaction

from consent.models import ConsentEvent, PrivacyPreference, Purpose
from consent.services import consent_record
from consent.suppression import identifier_digest
from contacts.models import Activity, Contact, ContactMethod
from enrichment import resilience
from enrichment.models import ProviderCheck, SocialProfile
from enrichment.tasks import enrich_contact
from socialcrm.celery import app as celery_app
from socialcrm.models import OutboxMessage, Team, User
from tests.enrichment.conftest import sample
from tests.factories import ContactFactory, ContactMethodFactory

SHA = hashlib.sha256(b"ada@ada.example").hexdigest()
GRAVATAR = f"https://api.gravatar.com/v3/profiles/{SHA}"
GITHUB = "https://api.github.com/users/adaexample"
SITE = "https://ada.example/"


@pytest.fixture
def ada(team: Team) -> Contact:
    contact = ContactFactory(team=team, first_name="Ada", last_name="Example", title="", email="ada@ada.example")
    ContactMethodFactory(contact=contact, kind=ContactMethod.Kind.WEBSITE, value=SITE, normalized=SITE)
    ContactMethodFactory(
        contact=contact, kind=ContactMethod.Kind.HANDLE, value="github:adaexample", normalized="github:adaexample"
    )
    return contact


@pytest.fixture
def web() -> Iterator[respx.MockRouter]:
    """Ada's public presence; any request without a route fails the test."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        mock.get(GRAVATAR).respond(200, json=json.loads(sample("gravatar_v3_profile.json")))
        mock.get(GITHUB).respond(200, json=json.loads(sample("github_user.json")))
        mock.get(SITE).respond(200, text=sample("personal_site.html"), headers={"Content-Type": "text/html"})
        yield mock


def test_a_run_stores_each_profile_once_with_its_source_and_verifies_two_way_links(
    ada: Contact, web: respx.MockRouter
) -> None:
    result = enrich_contact(ada.pk)

    profiles = {p.network: p for p in SocialProfile.objects.filter(contact=ada)}
    assert result["status"] == "done"
    assert {"gravatar", "github", "website"} <= set(profiles)
    github = profiles["github"]
    assert (github.url, github.provider, github.source_url) == ("https://github.com/adaexample", "github", GITHUB)
    # The site links to the GitHub profile with rel=me and GitHub's blog links back.
    assert github.verified is True
    assert github.confidence == pytest.approx(0.95)
    assert github.status == SocialProfile.Status.SUGGESTED
    checks = dict(ProviderCheck.objects.filter(contact=ada).values_list("provider", "status"))
    assert checks["github"] == checks["gravatar"] == ProviderCheck.Status.FOUND
    found = Activity.objects.get(contact=ada, kind=Activity.Kind.PROFILE_FOUND)
    assert found.subject == f"{len(profiles)} public profiles found"


def test_running_twice_changes_nothing_and_records_no_second_timeline_row(ada: Contact, web: respx.MockRouter) -> None:
    enrich_contact(ada.pk)
    before = list(SocialProfile.objects.filter(contact=ada).order_by("id").values("id", "network", "url", "bio"))
    calls = web.calls.call_count

    enrich_contact(ada.pk)  # fresh answers for the same subject: nobody is asked again
    enrich_contact(ada.pk, True)  # "refresh now": asked again, same rows

    after = list(SocialProfile.objects.filter(contact=ada).order_by("id").values("id", "network", "url", "bio"))
    assert after == before
    assert web.calls.call_count == 2 * calls
    assert Activity.objects.filter(contact=ada, kind=Activity.Kind.PROFILE_FOUND).count() == 1


def test_gate_denied_means_not_a_single_request(ada: Contact, web: respx.MockRouter, alice: User) -> None:
    consent_record(
        actor=alice,
        contact=ada,
        purpose=Purpose.objects.get(code="enrichment"),
        action=ConsentEvent.Action.OBJECT,
        source=ConsentEvent.Source.EMAIL,
        evidence="Asked us not to look them up.",
    )

    result = enrich_contact(ada.pk)

    assert result["status"] == "denied"
    assert web.calls.call_count == 0
    assert not SocialProfile.objects.filter(contact=ada).exists()


def test_a_suppressed_email_means_not_a_single_request(ada: Contact, web: respx.MockRouter) -> None:
    from consent.models import Suppression

    Suppression.objects.create(digest=identifier_digest("ada@ada.example"))

    result = enrich_contact(ada.pk)

    assert result["status"] in {"denied", "suppressed"}
    assert web.calls.call_count == 0
    assert not SocialProfile.objects.filter(contact=ada).exists()


def test_networks_the_person_asked_not_to_link_are_neither_asked_nor_stored(
    ada: Contact, web: respx.MockRouter
) -> None:
    PrivacyPreference.objects.create(contact=ada, unlinked_networks=["github"])

    enrich_contact(ada.pk)

    assert not web.routes[1].called  # GitHub
    assert not SocialProfile.objects.filter(contact=ada, network="github").exists()
    assert SocialProfile.objects.filter(contact=ada, network="gravatar").exists()


def test_nothing_found_is_cached_for_the_same_subject_and_asked_again_for_a_new_email(team: Team) -> None:
    contact = ContactFactory(team=team, email="nobody@mail.example")
    sha = hashlib.sha256(b"nobody@mail.example").hexdigest()
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.get(f"https://api.gravatar.com/v3/profiles/{sha}").respond(404)
        mock.get("https://mail.example/").respond(404)
        enrich_contact(contact.pk)
        enrich_contact(contact.pk)
        assert route.call_count == 1
        check = ProviderCheck.objects.get(contact=contact, provider="gravatar")
        assert (check.status, check.until is not None) == (ProviderCheck.Status.NOTHING, True)

        other = "other@mail.example"
        ContactMethodFactory(contact=contact, kind=ContactMethod.Kind.EMAIL, value=other)
        mock.get(f"https://api.gravatar.com/v3/profiles/{hashlib.sha256(other.encode()).hexdigest()}").respond(404)
        enrich_contact(contact.pk)
        assert route.call_count == 2


def test_a_404_is_not_retried(team: Team) -> None:
    contact = ContactFactory(team=team)
    ContactMethodFactory(contact=contact, kind=ContactMethod.Kind.WEBSITE, value=SITE, normalized=SITE)
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.get(SITE).respond(404)
        result = enrich_contact(contact.pk)
    assert route.call_count == 1
    assert result["retry"] == []
    assert ProviderCheck.objects.get(contact=contact, provider="website").status == ProviderCheck.Status.NOTHING


def test_transient_errors_are_retried_for_that_provider_only_then_shown_as_unreachable(
    ada: Contact, web: respx.MockRouter, settings: Any
) -> None:
    settings.ENRICHMENT_MAX_RETRIES = 2
    settings.ENRICHMENT_BREAKER_FAILURES = 100
    web.get(GITHUB).respond(503)
    # Eagerly and without propagation, Celery runs each retry at once (a real worker waits the countdown).
    celery_app.conf.task_eager_propagates = False
    try:
        enrich_contact.apply(args=[ada.pk])
    finally:
        celery_app.conf.task_eager_propagates = True

    assert web.routes[1].call_count == 1 + 2  # the first try and two retries
    assert web.routes[0].call_count == 1  # Gravatar answered the first time: not asked again
    check = ProviderCheck.objects.get(contact=ada, provider="github")
    assert (check.status, check.error) == (ProviderCheck.Status.FAILED, "FetchError")


def test_retry_delays_grow_exponentially_with_jitter_and_honour_retry_after() -> None:
    delays = [resilience.retry_delay(n) for n in range(5)]
    for n, delay in enumerate(delays):
        base = resilience.BACKOFF_BASE_SECONDS * 2**n
        assert base / 2 <= delay <= base
    assert resilience.retry_delay(0, retry_after=600) == 600
    assert resilience.retry_delay(20) <= resilience.BACKOFF_CAP_SECONDS


def test_the_circuit_breaker_opens_after_repeated_failures_and_closes_after_a_success(
    ada: Contact, web: respx.MockRouter, settings: Any
) -> None:
    settings.ENRICHMENT_MAX_RETRIES = 0
    settings.ENRICHMENT_BREAKER_FAILURES = 2
    github = web.get(GITHUB).respond(503)

    enrich_contact(ada.pk, True)
    enrich_contact(ada.pk, True)
    assert "github" in resilience.open_breakers()
    result = enrich_contact(ada.pk, True)
    assert github.call_count == 2  # open: GitHub is not asked
    assert "github" in result["skipped"]

    from enrichment.models import ProviderState

    ProviderState.objects.filter(provider="github").update(opened_until=None)  # the pause ran out
    web.get(GITHUB).respond(200, json=json.loads(sample("github_user.json")))
    enrich_contact(ada.pk, True)
    assert resilience.open_breakers() == {}
    assert ProviderState.objects.get(provider="github").failures == 0


def test_a_rate_limit_answer_holds_every_lookup_off_until_retry_after(ada: Contact, web: respx.MockRouter) -> None:
    github = web.get(GITHUB).respond(429, headers={"Retry-After": "120"})

    with pytest.raises(Exception):  # noqa: B017 - called directly, Celery re-raises its Retry
        enrich_contact(ada.pk)
    assert github.call_count == 1
    wait = resilience.limiter().acquire("github")
    assert 100 < wait <= 120


def test_the_token_bucket_lets_a_burst_through_then_makes_callers_wait(settings: Any) -> None:
    settings.ENRICHMENT_RATE_PER_SECOND = 2
    settings.ENRICHMENT_RATE_BURST = 3
    limiter = resilience.LocalLimiter()
    waits = [limiter.acquire("gravatar") for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 0.4 < waits[3] <= 0.5
    assert limiter.acquire("github") == 0.0  # per provider


def test_an_opt_out_stores_nothing_and_the_provider_is_not_asked_again(team: Team) -> None:
    contact = ContactFactory(team=team)
    ContactMethodFactory(contact=contact, kind=ContactMethod.Kind.HANDLE, value="@quiet.example", label="bluesky")
    SocialProfile.objects.create(
        contact=contact, network="bluesky", provider="bluesky", url="https://bsky.app/profile/quiet.example"
    )
    from enrichment.findings import Finding
    from enrichment.pipeline import Outcome, record

    record(contact, "key", [Outcome("bluesky", findings=[Finding.opted_out(network="bluesky", provider="bluesky")])])

    assert not SocialProfile.objects.filter(contact=contact).exists()
    assert ProviderCheck.objects.get(contact=contact, provider="bluesky").status == ProviderCheck.Status.OPTED_OUT
    result = enrich_contact(contact.pk, True)  # even "refresh now" leaves them alone
    assert "bluesky" in result["skipped"]


@pytest.mark.django_db(transaction=True)
def test_a_new_contact_or_email_queues_one_lookup_after_commit(team: Team, settings: Any) -> None:
    settings.ENRICHMENT_AUTOMATIC = True
    with respx.mock(assert_all_mocked=False) as mock:
        mock.route().respond(404)
        with transaction.atomic():
            contact = ContactFactory(team=team, email="new@mail.example")
            ContactMethodFactory(contact=contact, kind=ContactMethod.Kind.WEBSITE, value=SITE, normalized=SITE)
            # One message for the contact and its two methods, not three.
            assert OutboxMessage.objects.filter(task_name="enrichment.tasks.enrich_contact").count() == 1
            assert not ProviderCheck.objects.exists()  # nothing runs before commit
        assert ProviderCheck.objects.filter(contact=contact).exists()

        ContactMethodFactory(contact=contact, kind=ContactMethod.Kind.PHONE, value="+351 21 000 0000")
        assert OutboxMessage.objects.filter(task_name="enrichment.tasks.enrich_contact").count() == 1
        ContactMethodFactory(contact=contact, kind=ContactMethod.Kind.EMAIL, value="second@mail.example")
        assert OutboxMessage.objects.filter(task_name="enrichment.tasks.enrich_contact").count() == 2


def test_one_provider_answering_garbage_keeps_the_others_findings_and_is_shown_as_failed(
    ada: Contact, web: respx.MockRouter, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ENRICHMENT_MAX_RETRIES = 0
    web.get(GRAVATAR).respond(200, json=["x"])  # valid JSON, not the object the parser expects

    result = enrich_contact(ada.pk)

    assert result["status"] == "done"
    assert result["retry"] == ["gravatar"]  # an unexpected answer may be a passing hiccup: asked again later
    networks = set(SocialProfile.objects.filter(contact=ada).values_list("network", flat=True))
    assert "github" in networks and "gravatar" not in networks
    checks = {c.provider: (c.status, c.error) for c in ProviderCheck.objects.filter(contact=ada)}
    assert checks["gravatar"] == (ProviderCheck.Status.FAILED, "UnexpectedAnswer")
    assert checks["github"][0] == ProviderCheck.Status.FOUND
    assert any("gravatar" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_limiter_failure_inside_one_lookup_does_not_stop_the_run(
    ada: Contact, web: respx.MockRouter, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ENRICHMENT_MAX_RETRIES = 0

    class DownForGithub(resilience.LocalLimiter):
        def acquire(self, provider: str) -> float:
            if provider == "github":
                raise ConnectionError("Redis is down")
            return super().acquire(provider)

    monkeypatch.setattr(resilience, "limiter", lambda: DownForGithub())

    result = enrich_contact(ada.pk)

    assert result["retry"] == ["github"]
    assert ProviderCheck.objects.get(contact=ada, provider="github").status == ProviderCheck.Status.FAILED
    assert SocialProfile.objects.filter(contact=ada, network="gravatar").exists()
