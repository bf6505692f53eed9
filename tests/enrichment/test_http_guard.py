"""The outbound client refuses everything that is not a public http(s) destination.

These tests run the REAL transport (GuardedTransport -> GuardedBackend) against real
sockets on 127.0.0.1; names are made to resolve where a test needs through an injected
resolver, so no test depends on outside DNS or network.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import pytest

from enrichment.http import (
    AddressPolicy,
    BlockedDestination,
    Client,
    FetchError,
    FetchTimeout,
    GuardedTransport,
    ResponseTooLarge,
)
from tests.enrichment.conftest import LocalServer, resolver_with, trusted_policy
from tests.test_architecture import APPS, imported_modules, python_files, relative


def guarded_client(policy: AddressPolicy | None = None, **kwargs: object) -> Client:
    """The production client (real transport), with the policy a test needs."""
    return Client(policy=policy or AddressPolicy(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/",
        "http://127.0.0.1/",
        "http://127.1/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://017700000001/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
    ],
)
def test_local_and_private_literals_are_refused(url: str) -> None:
    with guarded_client() as client, pytest.raises(BlockedDestination):
        client.get(url)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://127.0.0.1:70/_x", "ftp://example.com/", "dict://example.com:11211/", "data:,x"],
)
def test_other_schemes_are_refused(url: str) -> None:
    with guarded_client() as client, pytest.raises(BlockedDestination, match="scheme"):
        client.get(url)


def test_ports_other_than_80_and_443_are_refused_before_resolving() -> None:
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"]

    with guarded_client(AddressPolicy(resolver=resolver)) as client, pytest.raises(BlockedDestination, match="8080"):
        client.get("http://example.com:8080/")
    assert calls == []


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    policy = AddressPolicy(resolver=resolver_with({"intranet.example": ["10.1.2.3"]}))
    with guarded_client(policy) as client, pytest.raises(BlockedDestination, match=r"10\.1\.2\.3"):
        client.get("https://intranet.example/")


def test_a_name_with_any_private_address_among_public_ones_is_refused() -> None:
    policy = AddressPolicy(resolver=resolver_with({"mixed.example": ["93.184.216.34", "127.0.0.1"]}))
    with guarded_client(policy) as client, pytest.raises(BlockedDestination, match=r"127\.0\.0\.1"):
        client.get("https://mixed.example/")


def test_connects_to_the_checked_address_and_keeps_the_host_name(local_server: Callable[..., LocalServer]) -> None:
    # The name is resolved once, inside the connection backend, and the socket goes to that
    # address: a second, different DNS answer (rebinding) is never asked for.
    server = local_server()
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["169.254.169.254"]

    policy = AddressPolicy(resolver=resolver, trusted=frozenset({("127.0.0.1", server.port)}))
    with guarded_client(policy) as client:
        fetched = client.get(server.url("/ok", host="site.test"))
    assert fetched.content == b"hello"
    assert calls == ["site.test"]
    assert server.requests == [{"path": "/ok", "host": f"site.test:{server.port}"}]


def test_a_redirect_to_a_private_address_is_refused(local_server: Callable[..., LocalServer]) -> None:
    server = local_server()
    # Same port, so only the address decides: internal.test is private, alias.test is the server.
    policy = trusted_policy(server, {"internal.test": ["192.168.1.10"], "alias.test": ["127.0.0.1"]})
    with guarded_client(policy) as client:
        target = f"http://internal.test:{server.port}/ok"
        with pytest.raises(BlockedDestination, match=r"192\.168\.1\.10"):
            client.get(server.url(f"/redirect?to={target}"))
        assert [r["path"] for r in server.requests] == ["/redirect"]

        # The same redirect to a name of the trusted server is followed: the refusal above
        # came from the address check, not from the test's setup.
        fetched = client.get(server.url(f"/redirect?to=http://alias.test:{server.port}/ok"))
    assert fetched.content == b"hello"
    assert fetched.url == f"http://alias.test:{server.port}/ok"
    assert [r["path"] for r in server.requests] == ["/redirect", "/redirect", "/ok"]


def test_a_redirect_to_the_metadata_address_is_refused(local_server: Callable[..., LocalServer]) -> None:
    server = local_server()
    with guarded_client(trusted_policy(server)) as client, pytest.raises(BlockedDestination, match=r"169\.254"):
        client.get(server.url("/redirect?to=http://169.254.169.254/latest/meta-data/"))


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1/", "http://example.com:8080/"])
def test_redirects_to_other_schemes_or_ports_are_refused(local_server: Callable[..., LocalServer], target: str) -> None:
    server = local_server()
    with guarded_client(trusted_policy(server)) as client, pytest.raises(BlockedDestination):
        client.get(server.url(f"/redirect?to={target}"))


def test_more_than_three_redirects_are_refused(local_server: Callable[..., LocalServer]) -> None:
    server = local_server()
    url = server.url("/ok")
    for _ in range(4):
        url = server.url(f"/redirect?to={url}")
    with guarded_client(trusted_policy(server)) as client:
        with pytest.raises(FetchError, match="more than 3 redirects"):
            client.get(url)
        assert client.get(server.url(f"/redirect?to={server.url('/ok')}")).content == b"hello"


def test_https_to_http_downgrade_is_refused(local_server: Callable[..., LocalServer]) -> None:
    secure = local_server(tls_host="secure.test")
    plain = local_server()
    policy = AddressPolicy(
        resolver=resolver_with({"secure.test": ["127.0.0.1"]}),
        trusted=frozenset({("127.0.0.1", secure.port), ("127.0.0.1", plain.port)}),
    )
    assert secure.cert_file is not None
    context = ssl.create_default_context(cafile=str(secure.cert_file))
    with guarded_client(policy, transport=GuardedTransport(policy, ssl_context=context)) as client:
        # TLS works while connecting to the checked IP: the certificate is verified for the name (SNI).
        assert client.get(secure.url("/ok", host="secure.test")).content == b"hello"
        with pytest.raises(BlockedDestination, match="downgrade"):
            client.get(secure.url(f"/redirect?to={plain.url('/ok')}", host="secure.test"))
    assert [r["path"] for r in plain.requests] == []


def test_an_endless_body_is_cut_off(local_server: Callable[..., LocalServer]) -> None:
    server = local_server()
    with guarded_client(trusted_policy(server), max_body_bytes=100_000) as client, pytest.raises(ResponseTooLarge):
        client.get(server.url("/endless"))


def test_a_declared_huge_body_is_refused_before_reading(local_server: Callable[..., LocalServer]) -> None:
    server = local_server()
    client = guarded_client(trusted_policy(server), max_body_bytes=100_000)
    with client, pytest.raises(ResponseTooLarge, match="declares"):
        client.get(server.url("/huge"))


def test_a_slow_drip_body_is_cut_off_by_the_total_budget(local_server: Callable[..., LocalServer]) -> None:
    server = local_server()
    started = time.monotonic()
    with guarded_client(trusted_policy(server), timeout=0.5, budget=1.0) as client, pytest.raises(FetchTimeout):
        client.get(server.url("/drip"))
    # Every read succeeds within the read timeout; only the budget stops it.
    assert time.monotonic() - started < 3


def test_a_stalled_body_hits_the_read_timeout(local_server: Callable[..., LocalServer]) -> None:
    server = local_server()
    started = time.monotonic()
    with guarded_client(trusted_policy(server), timeout=0.3, budget=5.0) as client, pytest.raises(FetchTimeout):
        client.get(server.url("/stall"))
    assert time.monotonic() - started < 2


def test_proxy_variables_do_not_bypass_the_guard(
    local_server: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = local_server()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    with guarded_client(trusted_policy(server)) as client:
        assert client.get(server.url("/ok")).content == b"hello"
        with pytest.raises(BlockedDestination):
            client.get("http://127.0.0.1/")


def test_private_addresses_are_reachable_only_with_the_test_setting(
    local_server: Callable[..., LocalServer], settings: pytest.FixtureRequest
) -> None:
    server = local_server()
    settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = False  # type: ignore[attr-defined]
    with Client() as client, pytest.raises(BlockedDestination):
        client.get(server.url("/ok"))
    settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = True  # type: ignore[attr-defined]
    with Client() as client:
        assert client.get(server.url("/ok")).content == b"hello"


# Outbound connections are made only by enrichment/http.py and the mailbox sync, both checking
# addresses with socialcrm/netpolicy.py (which resolves names); anything else would bypass the guard.
NETWORK_MODULES = (
    "httpx",
    "httpcore",
    "requests",
    "urllib3",
    "aiohttp",
    "http.client",
    "urllib.request",
    "socket",
    "imaplib",
)
GUARDED = {"enrichment/http.py", "contacts/email/imap.py", "socialcrm/netpolicy.py"}


def network_imports(exempt: set[str]) -> list[str]:
    return [
        f"{relative(path)} imports {module}"
        for app in APPS
        for path in python_files(app)
        if relative(path) not in exempt
        for module in sorted(imported_modules(path.read_text(encoding="utf-8")))
        if any(module == name or module.startswith(f"{name}.") for name in NETWORK_MODULES)
    ]


def test_only_the_guarded_client_opens_network_connections() -> None:
    assert network_imports(exempt=GUARDED) == []
    # The checker does see the client itself.
    assert "enrichment/http.py imports httpx" in network_imports(exempt=set())
