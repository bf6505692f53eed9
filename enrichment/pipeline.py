"""One enrichment run for one contact: which providers to ask, asking them in parallel, recording.

The Celery task (enrichment/tasks.py) asks the gate first and owns retries; this module does
the rest. Provider lookups run in a thread pool, so one worker slot overlaps the network
waits of every provider; only ``Provider.find`` (HTTP through the guarded client and the
rate limiter) runs in those threads, every database read and write stays in the caller's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consent.selectors import unlinked_networks
from consent.suppression import suppressed_among
from contacts.models import Contact, ContactMethod
from enrichment import resilience, services
from enrichment.findings import Finding, Handle, Provider, Subject
from enrichment.http import AddressPolicy, Client, Fetched, FetchError, GuardedTransport
from enrichment.models import ProviderCheck
from enrichment.providers import PROVIDERS

logger = logging.getLogger(__name__)

# The network each provider's profiles belong to (for "networks not to be linked").
PROVIDER_NETWORK = {
    "gravatar": "gravatar",
    "github": "github",
    "fediverse": "fediverse",
    "bluesky": "bluesky",
    "website": "website",
    "company": "company",
}
# A rate-limit wait shorter than this is slept through; a longer one defers the lookup.
MAX_INLINE_WAIT = 2.0


def subject_for(contact: Contact) -> Subject:
    """What providers may look the contact up by: its emails, websites and handles."""
    methods = list(
        ContactMethod.objects.filter(
            contact=contact, kind__in=(ContactMethod.Kind.EMAIL, ContactMethod.Kind.WEBSITE, ContactMethod.Kind.HANDLE)
        ).order_by("kind", "-is_primary", "id")
    )
    return Subject(
        emails=tuple(m.normalized for m in methods if m.kind == ContactMethod.Kind.EMAIL),
        websites=tuple(m.value for m in methods if m.kind == ContactMethod.Kind.WEBSITE),
        # Every handle on the contact was typed by staff (or imported): explicit.
        handles=tuple(Handle(m.value, m.label, explicit=True) for m in methods if m.kind == ContactMethod.Kind.HANDLE),
    )


def subject_key(subject: Subject) -> str:
    """A digest of the subject: a cached answer only stands for the same emails, sites and handles."""
    data = [sorted(subject.emails), sorted(subject.websites), sorted(h.value for h in subject.handles)]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def is_suppressed(subject: Subject) -> bool:
    """Whether one of the contact's emails is on the suppression list (checked besides the gate's own rule)."""
    return bool(subject.emails) and bool(suppressed_among(list(subject.emails)))


@dataclass
class Plan:
    """Providers to ask now, and why the others are not asked."""

    subject: Subject
    key: str
    ask: list[Provider] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def plan(contact: Contact, subject: Subject, *, force: bool = False, only: Sequence[str] | None = None) -> Plan:
    """Which providers to ask about ``contact``.

    Skipped: providers the person opted out of ("don't ask again"), networks they asked not
    to be linked, providers whose breaker is open, and (unless ``force``, the "refresh now"
    button) providers whose answer for this same subject is still fresh: "nothing found"
    for ``ENRICHMENT_NEGATIVE_CACHE_DAYS``, a found profile for ``ENRICHMENT_REFRESH_DAYS``.
    """
    key = subject_key(subject)
    result = Plan(subject=subject, key=key)
    now = timezone.now()
    checks = {check.provider: check for check in ProviderCheck.objects.filter(contact=contact)}
    unlinked = unlinked_networks(contact)
    breakers = resilience.open_breakers(now)
    fresh_found = now - timedelta(days=settings.ENRICHMENT_REFRESH_DAYS)
    for provider in PROVIDERS:
        if only is not None and provider.name not in only:
            continue
        check = checks.get(provider.name)
        reason = ""
        if check is not None and check.status == ProviderCheck.Status.OPTED_OUT:
            reason = "the person opted out of lookups there"
        elif services.network_unlinked(PROVIDER_NETWORK.get(provider.name, provider.name), unlinked):
            reason = "the person asked for this network not to be linked"
        elif provider.name in breakers:
            reason = f"paused after repeated failures until {timezone.localtime(breakers[provider.name]):%H:%M}"
        elif not force and check is not None and check.subject_key == key:
            if check.status == ProviderCheck.Status.NOTHING and check.until and check.until > now:
                reason = "nothing found recently"
            elif check.status == ProviderCheck.Status.FOUND and check.checked_at > fresh_found:
                reason = "looked up recently"
        if reason:
            result.skipped[provider.name] = reason
        else:
            result.ask.append(provider)
    return result


@dataclass
class Outcome:
    """What one provider lookup gave: findings, or the error that stopped it."""

    provider: str
    findings: list[Finding] = field(default_factory=list)
    error: FetchError | None = None


class Deferred(FetchError):
    """Our own rate limit says wait longer than is worth sleeping: retry the lookup later."""


class UnexpectedAnswer(FetchError):
    """A lookup failed in a way the client does not name: an answer of an unexpected shape, a
    parser's error, the rate limiter's Redis down. Transient (no status): retried, counted by
    the breaker, shown as "couldn't reach X, will retry"."""


@dataclass
class Throttled:
    """The guarded client as one provider sees it: each request first takes a token from its bucket.

    A wait up to ``MAX_INLINE_WAIT`` is slept through; a longer one (or a provider's
    Retry-After still running) raises ``Deferred`` so the task retries the lookup later.
    A provider with nothing to look up makes no request and takes no token.
    """

    client: Client
    provider: str

    def _take_token(self) -> None:
        limiter = resilience.limiter()
        wait = limiter.acquire(self.provider)
        while 0 < wait <= MAX_INLINE_WAIT:
            time.sleep(wait)
            wait = limiter.acquire(self.provider)
        if wait > 0:
            raise Deferred(f"{self.provider} is rate-limited", retry_after=wait, rate_limited=True)

    def get(self, url: str, **kwargs: Any) -> Fetched:
        self._take_token()
        return self.client.get(url, **kwargs)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        self._take_token()
        return self.client.get_json(url, **kwargs)

    def txt(self, name: str) -> list[str]:
        return self.client.txt(name)

    def srv(self, name: str) -> list[tuple[str, int]]:
        return self.client.srv(name)


def _lookup(provider: Provider, subject: Subject, client: Client) -> Outcome:
    """One provider's lookup; whatever goes wrong in it stays in its ``Outcome``.

    Any exception, not only the client's ``FetchError``: one provider's bad answer must not
    stop the run, lose the other providers' findings or leave no status behind.
    """
    try:
        return Outcome(provider.name, findings=provider.find(subject, cast(Client, Throttled(client, provider.name))))
    except FetchError as exc:
        error = exc
    except Exception as exc:  # see the docstring; logged with its traceback
        logger.exception("Enrichment provider %s failed: %s", provider.name, type(exc).__name__)
        return Outcome(provider.name, error=UnexpectedAnswer(f"{provider.name} answered something unexpected"))
    if error.rate_limited and error.retry_after and not isinstance(error, Deferred):
        # The provider said when to come back: no worker asks it before then.
        try:
            resilience.limiter().hold_off(provider.name, error.retry_after)
        except Exception:  # the retry's countdown still honours Retry-After
            logger.exception("Could not record %s's Retry-After in the rate limiter", provider.name)
    return Outcome(provider.name, error=error)


@cache
def _shared_transport(allow_private: bool) -> GuardedTransport:
    # One guarded connection pool (and one TLS context: building it parses the CA bundle) per
    # process, shared by every task thread; httpcore's pool is thread-safe.
    return GuardedTransport(AddressPolicy(allow_private=allow_private))


@cache
def _pool() -> ThreadPoolExecutor:
    # Shared by a worker's task threads: 8 tasks x 6 providers at most at once.
    return ThreadPoolExecutor(max_workers=8 * len(PROVIDERS), thread_name_prefix="enrich")


def shared_client() -> Client:
    """A guarded client on the process's shared pool. Never close it: other tasks use the pool."""
    allow_private = bool(settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES)
    return Client(transport=_shared_transport(allow_private), policy=AddressPolicy(allow_private=allow_private))


def ask_providers(providers: Sequence[Provider], subject: Subject, *, client: Client | None = None) -> list[Outcome]:
    """Ask every provider at once (in the shared thread pool), through one guarded client."""
    client = client or shared_client()
    return list(_pool().map(lambda p: _lookup(p, subject, client), providers))


@dataclass
class RunResult:
    created: int = 0
    retry: dict[str, float] = field(default_factory=dict)  # provider -> seconds it asked us to wait (0: unknown)


@transaction.atomic
def record(contact: Contact, key: str, outcomes: Sequence[Outcome], *, now: datetime | None = None) -> RunResult:
    """Store a run's findings and each provider's status; say which lookups should be retried.

    Transient failures (timeouts, 5xx, rate limits) are retried; permanent ones (404,
    blocked destination, too large) are not. Breakers count failures, but not an answer
    that says when to come back (Retry-After): a provider asking us to slow down is not down.
    """
    now = now or timezone.now()
    result = RunResult()
    findings = [finding for outcome in outcomes for finding in outcome.findings]
    opted_out = services.profiles_forget_opted_out(contact=contact, findings=findings)
    upsert = services.profiles_upsert(contact=contact, findings=findings)
    result.created = len(upsert.created)
    negative_until = now + timedelta(days=settings.ENRICHMENT_NEGATIVE_CACHE_DAYS)
    checks = []
    succeeded = []
    for outcome in outcomes:
        name = outcome.provider
        if outcome.error is not None:
            error = outcome.error
            if error.transient:
                # A provider that said when to come back is handled by the hold-off, not the breaker.
                if not (isinstance(error, Deferred) or (error.rate_limited and error.retry_after)):
                    resilience.breaker_failure(name, now)
                result.retry[name] = error.retry_after or 0.0
                status, until = ProviderCheck.Status.FAILED, None
            else:
                status, until = ProviderCheck.Status.NOTHING, negative_until
            checks.append(ProviderCheck(provider=name, status=status, until=until, error=type(error).__name__))
            continue
        succeeded.append(name)
        if name in opted_out:
            status, until = ProviderCheck.Status.OPTED_OUT, None
        elif outcome.findings:
            status, until = ProviderCheck.Status.FOUND, None
        else:
            status, until = ProviderCheck.Status.NOTHING, negative_until
        checks.append(ProviderCheck(provider=name, status=status, until=until))
    resilience.breakers_succeeded(succeeded)
    services.provider_checks_record(contact=contact, checks=checks, subject_key=key, now=now)
    return result
