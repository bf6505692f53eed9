"""The client's HTTP behaviour: statuses, rate-limit hints, conditional cache, credentials, DNS."""

from __future__ import annotations

from typing import Any

import dns.exception
import dns.name
import dns.resolver
import httpx
import pytest
import respx

from enrichment import http
from enrichment.http import (
    AddressPolicy,
    Client,
    Dns,
    FetchError,
    FetchTimeout,
    NotFound,
    ResponseTooLarge,
    retry_after_seconds,
)
from tests.enrichment.conftest import resolver_with


def test_404_and_410_are_not_found_and_not_worth_retrying(router: respx.MockRouter, client: Client) -> None:
    router.get("https://a.example/gone").mock(return_value=httpx.Response(410))
    with pytest.raises(NotFound) as caught:
        client.get("https://a.example/gone")
    assert caught.value.transient is False


def test_server_errors_are_transient_client_errors_are_not(router: respx.MockRouter, client: Client) -> None:
    router.get("https://a.example/500").mock(return_value=httpx.Response(500))
    router.get("https://a.example/401").mock(return_value=httpx.Response(401))
    with pytest.raises(FetchError) as server_error:
        client.get("https://a.example/500")
    with pytest.raises(FetchError) as client_error:
        client.get("https://a.example/401")
    assert (server_error.value.transient, client_error.value.transient) == (True, False)


def test_429_carries_retry_after(router: respx.MockRouter, client: Client) -> None:
    router.get("https://a.example/").mock(return_value=httpx.Response(429, headers={"Retry-After": "120"}))
    with pytest.raises(FetchError) as caught:
        client.get("https://a.example/")
    assert (caught.value.status, caught.value.retry_after, caught.value.transient) == (429, 120.0, True)


def test_retry_after_as_http_date_and_rate_limit_reset() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds({"retry-after": "Tue, 14 Nov 2023 22:15:00 GMT"}, now=now) == 100.0
    assert retry_after_seconds({"x-ratelimit-reset": str(int(now) + 42)}, now=now) == 42.0
    assert retry_after_seconds({}, now=now) is None


def test_conditional_request_reuses_the_cached_body_on_304(router: respx.MockRouter, client: Client) -> None:
    route = router.get("https://a.example/profile")
    validators = {"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
    route.side_effect = [httpx.Response(200, json={"name": "Ada"}, headers=validators), httpx.Response(304)]
    first = client.get_json("https://a.example/profile")
    second = client.get("https://a.example/profile", headers={"Accept": "application/json"})
    assert first == second.json() == {"name": "Ada"}
    assert second.from_cache is True
    conditional = route.calls.last.request.headers
    assert (conditional["if-none-match"], conditional["if-modified-since"]) == ('"v1"', "Mon, 01 Jan 2024 00:00:00 GMT")


class RecordingCache:
    """The Django cache, with every ``set`` recorded (key, value, timeout)."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache
        self.sets: list[tuple[str, Any, float | None]] = []

    def get(self, key: str, default: Any = None) -> Any:
        return self._cache.get(key, default)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        self.sets.append((key, value, timeout))
        self._cache.set(key, value, timeout)


def test_cached_bodies_expire_within_minutes(
    router: respx.MockRouter, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = RecordingCache(http.cache)
    monkeypatch.setattr(http, "cache", recording)
    router.get("https://a.example/profile").respond(200, json={"name": "Ada"}, headers={"ETag": '"v1"'})

    client.get_json("https://a.example/profile")

    # Bodies are personal data outside erasure's reach: they may only outlive a run by minutes.
    [(_key, value, timeout)] = recording.sets
    assert b"Ada" in value["content"]
    assert timeout is not None and 0 < timeout <= 15 * 60


def test_responses_without_validators_are_not_cached(router: respx.MockRouter, client: Client) -> None:
    route = router.get("https://a.example/").mock(return_value=httpx.Response(200, text="x"))
    client.get("https://a.example/")
    client.get("https://a.example/")
    assert "if-none-match" not in route.calls.last.request.headers


def test_credentials_are_not_forwarded_to_another_origin(router: respx.MockRouter, client: Client) -> None:
    router.get("https://api.example/users/ada").mock(
        return_value=httpx.Response(302, headers={"Location": "https://cdn.example/ada"})
    )
    cdn = router.get("https://cdn.example/ada").mock(return_value=httpx.Response(200, text="ok"))
    fetched = client.get("https://api.example/users/ada", headers={"Authorization": "Bearer secret", "X-Trace": "1"})
    assert fetched.url == "https://cdn.example/ada"
    assert "authorization" not in cdn.calls.last.request.headers
    assert cdn.calls.last.request.headers["x-trace"] == "1"


def test_body_cap_applies_to_mocked_responses_too(router: respx.MockRouter, client: Client) -> None:
    router.get("https://a.example/").mock(return_value=httpx.Response(200, content=b"x" * 2048))
    client.max_body_bytes = 1024
    with pytest.raises(ResponseTooLarge):
        client.get("https://a.example/")


def test_invalid_json_is_a_permanent_error(router: respx.MockRouter, client: Client) -> None:
    router.get("https://a.example/").mock(return_value=httpx.Response(200, text="<html>"))
    with pytest.raises(FetchError, match="did not return JSON") as caught:
        client.get_json("https://a.example/")
    assert caught.value.transient is False


def test_params_are_merged_with_the_urls_own_query(router: respx.MockRouter, client: Client) -> None:
    route = router.get("https://a.example/search").mock(return_value=httpx.Response(200, text="ok"))
    client.get("https://a.example/search?page=2", params={"q": "ada in:email"})
    assert route.calls.last.request.url.params == httpx.QueryParams({"page": "2", "q": "ada in:email"})


class _Srv:
    def __init__(self, target: str, port: int, priority: int = 10, weight: int = 5) -> None:
        self.target = dns.name.from_text(target)
        self.port, self.priority, self.weight = port, priority, weight


def test_dns_txt_and_missing_names(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Txt:
        strings = (b"did=did:plc:", b"abc")

    def resolve(name: str, rdtype: str, lifetime: float) -> list[object]:
        assert lifetime == 2.0
        if name == "_atproto.ada.example":
            return [_Txt()]
        raise dns.resolver.NXDOMAIN

    monkeypatch.setattr(dns.resolver, "resolve", resolve)
    lookup = Dns(AddressPolicy(), lifetime=2.0)
    assert lookup.txt("_atproto.ada.example") == ["did=did:plc:abc"]
    assert lookup.txt("_atproto.nobody.example") == []


def test_dns_timeout_is_a_fetch_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(name: str, rdtype: str, lifetime: float) -> list[object]:
        raise dns.exception.Timeout

    monkeypatch.setattr(dns.resolver, "resolve", resolve)
    with pytest.raises(FetchTimeout):
        Dns(AddressPolicy(), lifetime=1.0).txt("_atproto.slow.example")


def test_dns_srv_targets_pass_the_address_check(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [_Srv("inside.example.", 443, priority=0), _Srv("public.example.", 443, priority=10)]
    monkeypatch.setattr(dns.resolver, "resolve", lambda name, rdtype, lifetime: records)
    names = {"inside.example": ["10.0.0.7"], "public.example": ["93.184.216.34"]}
    policy = AddressPolicy(resolver=resolver_with(names))
    assert Dns(policy, lifetime=1.0).srv("_service._tcp.example") == [("public.example", 443)]


@pytest.mark.parametrize("response", [httpx.Response(302), httpx.Response(304), httpx.Response(300, text="pick")])
def test_a_3xx_with_nothing_to_follow_is_an_error(
    router: respx.MockRouter, client: Client, response: httpx.Response
) -> None:
    router.get("https://a.example/").mock(return_value=response)
    with pytest.raises(FetchError, match="without anything to follow"):
        client.get("https://a.example/")
