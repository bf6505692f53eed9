"""The one outbound HTTP client: every request to the public internet goes through here.

Enrichment fetches URLs that come from untrusted places (a contact's website, a profile's
links, a WebFinger document), so each request is treated as a possible server-side request
forgery:

- only ``http``/``https`` on ports 80/443 (any port only when private addresses are allowed,
  which is a test setting);
- the host is resolved **inside the connection backend** and every address is checked there
  (``socialcrm/netpolicy.py``, the policy the mailbox sync uses too), then the socket
  connects to the address that was checked, while TLS SNI and the ``Host`` header keep the
  host name. There is no gap between check and connect, so a DNS answer that
  changes between two lookups (DNS rebinding) cannot slip a private address through;
- redirects are followed by hand, at most three, each hop re-checked (scheme, port, no
  https -> http downgrade; the address is checked again when the hop connects), and
  credentials are dropped when a redirect leaves the original origin;
- connect/read timeouts, a total time budget (a server dripping one byte a second is cut off),
  and a streamed body cap, so neither a slow nor an endless body ties up a worker;
- a clear User-Agent, and conditional requests (ETag / Last-Modified) against a small cache
  that keeps bodies for minutes only.

Proxies from the environment are ignored on purpose: a proxy would connect on our behalf
and bypass the address check.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import dns.exception
import dns.resolver
import httpcore
import httpx
from django.conf import settings
from django.core.cache import cache

from socialcrm import netpolicy

MAX_REDIRECTS = 3
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Headers that carry a credential for one provider; never forwarded to another origin.
CREDENTIAL_HEADERS = {"authorization", "x-api-key"}
# Cached bodies are the source's raw answers, personal data that erasure cannot find (keyed by
# URL, not by contact): they are kept minutes, long enough for a run's retries and a "refresh now"
# right after a run, never as a store of their own. See docs/enrichment.md.
CACHE_SECONDS = 10 * 60
CACHE_PREFIX = "enrichment:http:"


class FetchError(Exception):
    """A request did not produce a usable response.

    ``status`` is the HTTP status when there was one; ``retry_after`` (seconds) is set when
    the server said when to come back (429/503 ``Retry-After``, ``X-RateLimit-Reset``).
    ``transient`` tells a caller whether retrying later can help.
    """

    retryable = True

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None, rate_limited: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.rate_limited = rate_limited

    @property
    def transient(self) -> bool:
        if not self.retryable:
            return False
        return self.status is None or self.status >= 500 or self.rate_limited


class BlockedDestination(FetchError):
    """The URL, port or resolved address is not a public internet destination."""

    retryable = False


class ResponseTooLarge(FetchError):
    """The body is larger than ``ENRICHMENT_MAX_BODY_BYTES``."""

    retryable = False


class FetchTimeout(FetchError):
    """Connecting, reading, or the whole request took longer than allowed."""


class NotFound(FetchError):
    """The server answered 404 or 410: nothing there, do not retry."""

    retryable = False


@dataclass(frozen=True)
class AddressPolicy:
    """Which destinations may be connected to.

    ``allow_private`` (the ``ENRICHMENT_ALLOW_PRIVATE_ADDRESSES`` test setting) lifts the
    address and port checks. ``trusted`` lists single ``(ip, port)`` endpoints that pass
    although private: tests use it to reach one local server while everything else stays
    refused. ``resolver`` is injectable so tests can make a name resolve to anything.
    """

    allow_private: bool = False
    resolver: netpolicy.Resolver = netpolicy.system_resolve
    trusted: frozenset[tuple[str, int]] = frozenset()

    def check_port(self, host: str, port: int) -> None:
        if self.allow_private or port in DEFAULT_PORTS.values():
            return
        if any(trusted_port == port for _ip, trusted_port in self.trusted):
            return
        raise BlockedDestination(f"port {port} of {host!r} is not allowed (only 80 and 443)")

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and return its addresses; refuse if ANY of them is not public.

        Refusing the whole answer (not just filtering it) means a name that mixes a public
        and a private address cannot be used to reach the private one on a retry.
        """
        self.check_port(host, port)

        def exempt(address: netpolicy.IPAddress) -> bool:
            return self.allow_private or (str(address), port) in self.trusted

        try:
            return netpolicy.public_addresses(host, port, resolver=self.resolver, exempt=exempt)
        except netpolicy.PrivateAddress as exc:
            raise BlockedDestination(str(exc)) from exc
        except netpolicy.UnresolvableHost as exc:
            raise FetchError(str(exc)) from exc


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore network backend that resolves and checks the host itself, then connects to the IP.

    httpcore hands ``connect_tcp`` the host name; TLS is started afterwards on the returned
    stream with the request's host name as SNI, so certificates are still verified against
    the name while the socket goes to the address we checked.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._policy.resolve(host, port)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # noqa: S101 - resolve() never returns an empty list
        raise last_error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise BlockedDestination("unix sockets are not an internet destination")


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connection pool connects only through ``GuardedBackend``."""

    def __init__(self, policy: AddressPolicy, *, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(trust_env=False)
        # Replacing the pool is the supported way to choose a network backend: httpx builds
        # its pool without one, httpcore's ConnectionPool takes ``network_backend``.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(policy),
        )


class DnsLookup(Protocol):
    def txt(self, name: str) -> list[str]: ...

    def srv(self, name: str) -> list[tuple[str, int]]: ...


class Dns:
    """TXT/SRV lookups through dnspython with a time limit; SRV targets pass the address check."""

    def __init__(self, policy: AddressPolicy, *, lifetime: float) -> None:
        self._policy = policy
        self._lifetime = lifetime

    def _answer(self, name: str, rdtype: str) -> list[Any]:
        try:
            return list(dns.resolver.resolve(name, rdtype, lifetime=self._lifetime))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout as exc:
            raise FetchTimeout(f"DNS {rdtype} lookup of {name!r} timed out") from exc
        except dns.exception.DNSException as exc:
            raise FetchError(f"DNS {rdtype} lookup of {name!r} failed: {exc}") from exc

    def txt(self, name: str) -> list[str]:
        return [b"".join(record.strings).decode("utf-8", "replace") for record in self._answer(name, "TXT")]

    def srv(self, name: str) -> list[tuple[str, int]]:
        """SRV targets, best first, keeping only those whose addresses are all public."""
        records = sorted(self._answer(name, "SRV"), key=lambda r: (r.priority, -r.weight))
        targets = []
        for record in records:
            host = record.target.to_text(omit_final_dot=True)
            try:
                self._policy.resolve(host, record.port)
            except FetchError:
                continue
            targets.append((host, int(record.port)))
        return targets


@dataclass(frozen=True)
class Fetched:
    """A successful response: final URL after redirects, status, headers, the (capped) body."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    from_cache: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            return self.content.decode(charset, "replace")
        except LookupError:
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise FetchError(f"{self.url} did not return JSON", status=self.status) from exc


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``X-RateLimit-Reset`` (epoch)."""
    now = time.time() if now is None else now
    value = headers.get("retry-after", "").strip()
    if value:
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = headers.get("x-ratelimit-reset", "").strip()
    if reset.isdigit():
        return max(0.0, float(reset) - now)
    return None


@dataclass
class Client:
    """The outbound HTTP client every provider uses (see the module docstring).

    Tests inject ``transport`` (a respx router's mock transport) for provider parsing, or a
    ``policy`` with a fake resolver for the SSRF suite, which runs the real transport.
    """

    transport: httpx.BaseTransport | None = None
    policy: AddressPolicy | None = None
    dns: DnsLookup | None = None
    timeout: float = field(default_factory=lambda: float(settings.ENRICHMENT_HTTP_TIMEOUT))
    budget: float = field(default_factory=lambda: float(settings.ENRICHMENT_HTTP_BUDGET))
    max_body_bytes: int = field(default_factory=lambda: int(settings.ENRICHMENT_MAX_BODY_BYTES))
    user_agent: str = field(default_factory=lambda: str(settings.ENRICHMENT_USER_AGENT))

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = AddressPolicy(allow_private=settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES)
        if self.dns is None:
            self.dns = Dns(self.policy, lifetime=self.timeout)
        self._http = httpx.Client(
            transport=self.transport or GuardedTransport(self.policy),
            trust_env=False,
            follow_redirects=False,
            headers={"User-Agent": self.user_agent},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def txt(self, name: str) -> list[str]:
        assert self.dns is not None  # noqa: S101 - set in __post_init__
        return self.dns.txt(name)

    def srv(self, name: str) -> list[tuple[str, int]]:
        assert self.dns is not None  # noqa: S101 - set in __post_init__
        return self.dns.srv(name)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", {"Accept": "application/json"})
        return self.get(url, **kwargs).json()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """GET ``url`` under every rule of this module and return the body.

        Raises ``BlockedDestination``, ``NotFound``, ``ResponseTooLarge``, ``FetchTimeout``
        or ``FetchError`` (with ``retry_after`` when the server asked us to slow down).
        """
        deadline = time.monotonic() + self.budget
        request_headers = dict(headers or {})
        try:
            current = httpx.URL(url)
            # Merged, not passed as URL(params=...): that would replace the URL's own query.
            if params:
                current = current.copy_merge_params(params)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise BlockedDestination(f"not a valid URL: {url!r}") from exc
        origin = _origin(current)
        previous: httpx.URL | None = None
        for _hop in range(MAX_REDIRECTS + 1):
            self._check_url(current, previous)
            if _origin(current) != origin:
                request_headers = {k: v for k, v in request_headers.items() if k.lower() not in CREDENTIAL_HEADERS}
            result = self._send(current, request_headers, deadline)
            if isinstance(result, Fetched):
                return result
            previous, current = current, result
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _check_url(self, url: httpx.URL, previous: httpx.URL | None) -> None:
        if url.scheme not in DEFAULT_PORTS:
            raise BlockedDestination(f"scheme {url.scheme!r} is not allowed")
        if not url.host:
            raise BlockedDestination(f"{url} has no host")
        if url.userinfo:
            raise BlockedDestination("URLs with credentials are not fetched")
        if previous is not None and previous.scheme == "https" and url.scheme == "http":
            raise BlockedDestination(f"redirect from {previous} to {url} would downgrade https to http")
        assert self.policy is not None  # noqa: S101 - set in __post_init__
        self.policy.check_port(url.host, url.port or DEFAULT_PORTS[url.scheme])

    def _send(self, url: httpx.URL, headers: dict[str, str], deadline: float) -> Fetched | httpx.URL:
        """One hop: the response, or the next URL when it redirects."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimeout(f"{url} took longer than {self.budget:g}s")
        step = min(self.timeout, remaining)
        key = _cache_key(str(url), headers.get("Accept", ""))
        cached = cache.get(key)
        hop_headers = dict(headers)
        if cached:
            if cached.get("etag"):
                hop_headers["If-None-Match"] = cached["etag"]
            if cached.get("last_modified"):
                hop_headers["If-Modified-Since"] = cached["last_modified"]
        try:
            with self._http.stream("GET", url, headers=hop_headers, timeout=httpx.Timeout(step)) as response:
                status = response.status_code
                if status in REDIRECT_STATUSES and "location" in response.headers:
                    try:
                        return url.join(response.headers["location"])
                    except httpx.InvalidURL as exc:
                        raise FetchError(f"{url} redirects to an invalid URL", status=status) from exc
                if status == 304 and cached:
                    return Fetched(str(url), 200, cached["headers"], cached["content"], from_cache=True)
                _raise_for_status(url, response)
                content = self._read_capped(url, response, deadline)
                fetched = Fetched(str(url), status, {k.lower(): v for k, v in response.headers.items()}, content)
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"{url} timed out: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url} failed: {type(exc).__name__}: {exc}") from exc
        _store(key, fetched)
        return fetched

    def _read_capped(self, url: httpx.URL, response: httpx.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise ResponseTooLarge(f"{url} declares {declared} bytes, more than {self.max_body_bytes}")
        body = bytearray()
        # Decoded bytes are counted, so a small compressed body cannot expand past the cap.
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self.max_body_bytes:
                raise ResponseTooLarge(f"{url} sent more than {self.max_body_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchTimeout(f"{url} took longer than {self.budget:g}s to send its body")
        return bytes(body)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _raise_for_status(url: httpx.URL, response: httpx.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    if status < 400:
        # A redirect without Location, or a 304 we did not ask for.
        raise FetchError(f"{url} answered {status} without anything to follow", status=status)
    headers = {k.lower(): v for k, v in response.headers.items()}
    if status in (404, 410):
        raise NotFound(f"{url} answered {status}", status=status)
    # GitHub signals an exhausted quota with 403 and X-RateLimit-Remaining: 0.
    rate_limited = status in (429, 503) or (status == 403 and headers.get("x-ratelimit-remaining") == "0")
    if rate_limited:
        raise FetchError(
            f"{url} answered {status}", status=status, retry_after=retry_after_seconds(headers), rate_limited=True
        )
    raise FetchError(f"{url} answered {status}", status=status)


def _cache_key(url: str, accept: str) -> str:
    return CACHE_PREFIX + hashlib.sha256(f"{url}\n{accept}".encode()).hexdigest()


def _store(key: str, fetched: Fetched) -> None:
    """Keep validators and body for a conditional request next time (only when there are validators).

    For ``CACHE_SECONDS`` (minutes): bodies are raw answers, which we do not keep.
    """
    etag = fetched.headers.get("etag", "")
    last_modified = fetched.headers.get("last-modified", "")
    if not (etag or last_modified):
        return
    headers = {name: fetched.headers[name] for name in ("content-type",) if name in fetched.headers}
    cache.set(
        key,
        {"etag": etag, "last_modified": last_modified, "headers": headers, "content": fetched.content},
        CACHE_SECONDS,
    )
