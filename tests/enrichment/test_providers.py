"""Every sample response through its provider, HTTP mocked at the transport (respx), exact findings."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest
import respx
import time_machine

from enrichment.findings import Finding, Handle, Subject
from enrichment.http import Client, FetchError
from enrichment.providers.bluesky import BlueskyProvider
from enrichment.providers.company import CompanyProvider, company_domains
from enrichment.providers.fediverse import FediverseProvider
from enrichment.providers.github import GitHubProvider, github_login
from enrichment.providers.gravatar import GravatarProvider
from enrichment.providers.website import WebsiteProvider
from enrichment.verification import verify
from tests.enrichment.conftest import FakeDns, sample

NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
SHA = hashlib.sha256(b"ada@ada.example").hexdigest()
MD5 = hashlib.md5(b"ada@ada.example", usedforsecurity=False).hexdigest()
ADA_DID = "did:plc:4a7hz3kq2ybxg6sfl5vdn2wm"
QUIET_DID = "did:plc:7q2c9kzt0pvw3xmnb5rj8sha"
GRAVATAR_V3 = f"https://api.gravatar.com/v3/profiles/{SHA}"
GRAVATAR_LEGACY = f"https://en.gravatar.com/{MD5}.json"
GET_PROFILE = "https://public.api.bsky.app/xrpc/app.bsky.actor.getProfile"


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def json_sample(name: str) -> httpx.Response:
    return httpx.Response(200, json=json.loads(sample(name)))


def html_sample(name: str) -> httpx.Response:
    return httpx.Response(200, text=sample(name), headers={"Content-Type": "text/html; charset=utf-8"})


ADA_GRAVATAR = Finding(
    network="gravatar",
    provider="gravatar",
    url="https://gravatar.com/adaexample",
    handle="adaexample",
    display_name="Ada Example",
    avatar_url=f"https://0.gravatar.com/avatar/{SHA}",
    bio="Data engineer. Coffee, maps, open data.",
    location="Lisbon, Portugal",
    company="Example Ltd",
    title="Staff Engineer",
    links=["https://github.com/adaexample", "https://social.example/@ada"],
    verified_links=["https://github.com/adaexample", "https://social.example/@ada"],
    source_url=GRAVATAR_V3,
    fetched_at=NOW,
    confidence=0.9,
)
ADA_GITHUB = Finding(
    network="github",
    provider="github",
    url="https://github.com/adaexample",
    handle="adaexample",
    display_name="Ada Example",
    avatar_url="https://avatars.githubusercontent.com/u/583231?v=4",
    bio="Data engineer. Maps & open data.",
    location="Lisbon",
    company="example-ltd",
    links=["https://ada.example", "https://github.com/example-ltd"],
    verified_links=["https://ada.example"],
    source_url="https://api.github.com/users/adaexample",
    fetched_at=NOW,
    confidence=0.8,
)
ADA_FEDIVERSE = Finding(
    network="fediverse",
    provider="fediverse",
    url="https://social.example/@ada",
    handle="@ada@social.example",
    display_name="Ada Example",
    avatar_url="https://files.social.example/avatars/ada.png",
    bio="Data engineer in Lisbon. Maps & open data.",
    links=["https://ada.example"],
    verified_links=["https://ada.example"],
    feeds=["https://social.example/@ada.rss"],
    source_url="https://social.example/users/ada",
    fetched_at=NOW,
    confidence=0.8,
)
ADA_BLUESKY = Finding(
    network="bluesky",
    provider="bluesky",
    url="https://bsky.app/profile/ada.example",
    handle="ada.example",
    display_name="Ada Example",
    avatar_url=f"https://cdn.bsky.app/img/avatar/plain/{ADA_DID}/bafkreiabc123@jpeg",
    bio="Data engineer. Maps & open data. https://ada.example",
    links=["https://ada.example"],
    feeds=[f"https://bsky.app/profile/{ADA_DID}/rss"],
    source_url=f"{GET_PROFILE}?actor={ADA_DID}",
    fetched_at=NOW,
    confidence=0.8,
)
ADA_WEBSITE = Finding(
    network="website",
    provider="website",
    url="https://ada.example",
    display_name="Ada Example",
    avatar_url="https://ada.example/img/ada.jpg",
    bio="I build data pipelines and maps. Staff Engineer at Example Ltd.",
    location="Lisbon, Portugal",
    company="Example Ltd",
    title="Staff Engineer",
    links=["https://github.com/adaexample", "https://social.example/@ada", "https://bsky.app/profile/ada.example"],
    verified_links=[
        "https://github.com/adaexample",
        "https://social.example/@ada",
        "https://bsky.app/profile/ada.example",
    ],
    feeds=["https://ada.example/feed.xml"],
    source_url="https://ada.example",
    fetched_at=NOW,
    confidence=0.9,
)


# --- Gravatar ---------------------------------------------------------------------------


def test_gravatar_v3_profile_by_sha256_of_the_trimmed_lowercased_email(
    router: respx.MockRouter, client: Client
) -> None:
    route = router.get(GRAVATAR_V3).mock(return_value=json_sample("gravatar_v3_profile.json"))
    findings = GravatarProvider().find(Subject(emails=("  Ada@ADA.example ",)), client)
    assert findings == [ADA_GRAVATAR]
    assert "authorization" not in route.calls.last.request.headers


def test_gravatar_sends_the_api_key_when_configured(
    router: respx.MockRouter, client: Client, settings: pytest.FixtureRequest
) -> None:
    settings.GRAVATAR_API_KEY = "gk-123"  # type: ignore[attr-defined]
    route = router.get(GRAVATAR_V3).mock(return_value=json_sample("gravatar_v3_profile.json"))
    GravatarProvider().find(Subject(emails=("ada@ada.example",)), client)
    assert route.calls.last.request.headers["authorization"] == "Bearer gk-123"


def test_gravatar_unknown_email_is_no_finding(router: respx.MockRouter, client: Client) -> None:
    router.get(GRAVATAR_V3).mock(return_value=httpx.Response(404))
    assert GravatarProvider().find(Subject(emails=("ada@ada.example",)), client) == []


def test_gravatar_falls_back_to_the_legacy_json_when_rate_limited(router: respx.MockRouter, client: Client) -> None:
    router.get(GRAVATAR_V3).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    router.get(GRAVATAR_LEGACY).mock(return_value=json_sample("gravatar_legacy_profile.json"))
    findings = GravatarProvider().find(Subject(emails=("ada@ada.example",)), client)
    assert findings == [
        Finding(
            network="gravatar",
            provider="gravatar",
            url="http://gravatar.com/adaexample",
            handle="adaexample",
            display_name="Ada Example",
            avatar_url=f"https://secure.gravatar.com/avatar/{MD5}",
            bio="Data engineer.",
            location="Lisbon, Portugal",
            links=["https://ada.example"],
            source_url=GRAVATAR_LEGACY,
            fetched_at=NOW,
            confidence=0.9,
        )
    ]


def test_gravatar_reports_the_rate_limit_when_the_fallback_fails_too(router: respx.MockRouter, client: Client) -> None:
    router.get(GRAVATAR_V3).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    router.get(GRAVATAR_LEGACY).mock(return_value=httpx.Response(404))
    with pytest.raises(FetchError) as caught:
        GravatarProvider().find(Subject(emails=("ada@ada.example",)), client)
    assert (caught.value.status, caught.value.retry_after, caught.value.transient) == (429, 3600.0, True)


# --- GitHub -----------------------------------------------------------------------------


def test_github_user_by_known_login(router: respx.MockRouter, client: Client) -> None:
    route = router.get("https://api.github.com/users/adaexample").mock(return_value=json_sample("github_user.json"))
    findings = GitHubProvider().find(Subject(handles=(Handle("adaexample", label="GitHub"),)), client)
    assert findings == [ADA_GITHUB]
    headers = route.calls.last.request.headers
    assert headers["user-agent"].startswith("SocialCRM/0.1 (+")
    assert headers["accept"] == "application/vnd.github+json"
    assert "authorization" not in headers


def test_github_sends_the_token_when_configured(
    router: respx.MockRouter, client: Client, settings: pytest.FixtureRequest
) -> None:
    settings.GITHUB_TOKEN = "ghp_x"  # type: ignore[attr-defined]
    route = router.get("https://api.github.com/users/adaexample").mock(return_value=json_sample("github_user.json"))
    GitHubProvider().find(Subject(handles=(Handle("https://github.com/adaexample"),)), client)
    assert route.calls.last.request.headers["authorization"] == "Bearer ghp_x"


def test_github_does_not_search_by_email_unless_enabled(router: respx.MockRouter, client: Client) -> None:
    assert GitHubProvider().find(Subject(emails=("ada@ada.example",)), client) == []
    assert router.calls.call_count == 0


def test_github_search_by_public_email_when_enabled(
    router: respx.MockRouter, client: Client, settings: pytest.FixtureRequest
) -> None:
    settings.ENRICHMENT_GITHUB_EMAIL_SEARCH = True  # type: ignore[attr-defined]
    search = router.get("https://api.github.com/search/users", params={"q": "ada@ada.example in:email"}).mock(
        return_value=json_sample("github_search_users.json")
    )
    router.get("https://api.github.com/users/adaexample").mock(return_value=json_sample("github_user.json"))
    findings = GitHubProvider().find(Subject(emails=("Ada@ada.example",)), client)
    assert search.called
    assert findings == [Finding(**{**ADA_GITHUB.__dict__, "confidence": 0.7})]


def test_github_quota_exhausted_is_transient_with_the_reset_time(router: respx.MockRouter, client: Client) -> None:
    reset = int(NOW.timestamp()) + 600
    router.get("https://api.github.com/users/adaexample").mock(
        return_value=httpx.Response(403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
    )
    with pytest.raises(FetchError) as caught:
        GitHubProvider().find(Subject(handles=(Handle("github:adaexample"),)), client)
    assert (caught.value.retry_after, caught.value.transient) == (600.0, True)


@pytest.mark.parametrize(
    ("handle", "login"),
    [
        (Handle("adaexample", label="github"), "adaexample"),
        (Handle("@adaexample", label="GitHub"), "adaexample"),
        (Handle("github:adaexample"), "adaexample"),
        (Handle("https://github.com/adaexample"), "adaexample"),
        (Handle("https://github.com/adaexample/repo"), ""),
        (Handle("adaexample"), ""),
        (Handle("../../admin", label="github"), ""),
        (Handle("ada@social.example", label="github"), ""),
    ],
)
def test_github_login_from_handles(handle: Handle, login: str) -> None:
    assert github_login(handle) == login


# --- Fediverse --------------------------------------------------------------------------


def mock_fediverse(router: respx.MockRouter, *, discoverable: bool = True, mastodon: bool = True) -> respx.Route:
    router.get("https://social.example/.well-known/webfinger", params={"resource": "acct:ada@social.example"}).mock(
        return_value=json_sample("webfinger_jrd.json")
    )
    actor = json.loads(sample("activitypub_actor.json")) | {"discoverable": discoverable}
    actor_route = router.get("https://social.example/users/ada").mock(return_value=httpx.Response(200, json=actor))
    account = json.loads(sample("mastodon_account_lookup.json")) | {"discoverable": discoverable}
    router.get("https://social.example/api/v1/accounts/lookup", params={"acct": "ada"}).mock(
        return_value=httpx.Response(200, json=account) if mastodon else httpx.Response(404)
    )
    return actor_route


def test_fediverse_webfinger_actor_and_mastodon_lookup(router: respx.MockRouter, client: Client) -> None:
    actor_route = mock_fediverse(router)
    findings = FediverseProvider().find(Subject(handles=(Handle("@ada@social.example"),)), client)
    assert findings == [ADA_FEDIVERSE]
    assert actor_route.calls.last.request.headers["accept"] == "application/activity+json"


def test_fediverse_without_mastodon_uses_the_actor_alone(router: respx.MockRouter, client: Client) -> None:
    mock_fediverse(router, mastodon=False)
    findings = FediverseProvider().find(Subject(handles=(Handle("https://social.example/@ada"),)), client)
    # Without Mastodon's fields there is no verified_at, but the actor's own attachment link
    # still links back; there is no promised RSS feed.
    assert findings == [Finding(**{**ADA_FEDIVERSE.__dict__, "feeds": []})]


def test_fediverse_not_discoverable_is_opted_out_when_discovered(router: respx.MockRouter, client: Client) -> None:
    mock_fediverse(router, discoverable=False)
    found = FediverseProvider().find(Subject(handles=(Handle("ada@social.example", explicit=False),)), client)
    assert found == [Finding(network="fediverse", provider="fediverse", fetched_at=NOW, confidence=0, opt_out=True)]


def test_fediverse_not_discoverable_is_still_looked_up_when_given_explicitly(
    router: respx.MockRouter, client: Client
) -> None:
    mock_fediverse(router, discoverable=False)
    assert FediverseProvider().find(Subject(handles=(Handle("ada@social.example"),)), client) == [ADA_FEDIVERSE]


def test_fediverse_actor_on_another_host_than_webfinger_said_is_ignored(
    router: respx.MockRouter, client: Client
) -> None:
    router.get("https://social.example/.well-known/webfinger").mock(return_value=json_sample("webfinger_jrd.json"))
    forged = json.loads(sample("activitypub_actor.json")) | {"id": "https://elsewhere.example/users/ada"}
    router.get("https://social.example/users/ada").mock(return_value=httpx.Response(200, json=forged))
    assert FediverseProvider().find(Subject(handles=(Handle("ada@social.example"),)), client) == []


# --- Bluesky ----------------------------------------------------------------------------


def mock_bluesky(router: respx.MockRouter) -> respx.Route:
    """Ada's DID document and profile; returns the profile route."""
    router.get(f"https://plc.directory/{ADA_DID}").mock(return_value=json_sample("did_plc_document.json"))
    return router.get(GET_PROFILE, params={"actor": ADA_DID}).mock(return_value=json_sample("bluesky_get_profile.json"))


def test_bluesky_handle_via_well_known_did(router: respx.MockRouter, client: Client, fake_dns: FakeDns) -> None:
    router.get("https://ada.example/.well-known/atproto-did").mock(
        return_value=httpx.Response(200, text=sample("atproto-did.txt"))
    )
    mock_bluesky(router)
    findings = BlueskyProvider().find(Subject(handles=(Handle("@ada.example", label="Bluesky"),)), client)
    assert findings == [ADA_BLUESKY]
    assert fake_dns.queries == ["_atproto.ada.example"]


def test_bluesky_handle_via_dns_txt(router: respx.MockRouter, client: Client, fake_dns: FakeDns) -> None:
    fake_dns.txt_records["_atproto.ada.example"] = [f"did={ADA_DID}"]
    mock_bluesky(router)
    findings = BlueskyProvider().find(Subject(handles=(Handle("https://bsky.app/profile/ada.example"),)), client)
    assert findings == [ADA_BLUESKY]


def test_bluesky_did_document_must_claim_the_handle(
    router: respx.MockRouter, client: Client, fake_dns: FakeDns
) -> None:
    # mallory.example points at Ada's DID, but Ada's DID document claims only ada.example.
    fake_dns.txt_records["_atproto.mallory.example"] = [f"did={ADA_DID}"]
    profile = mock_bluesky(router)
    assert BlueskyProvider().find(Subject(handles=(Handle("mallory.example", label="bluesky"),)), client) == []
    assert not profile.called


def test_bluesky_no_unauthenticated_label_means_store_nothing(
    router: respx.MockRouter, client: Client, fake_dns: FakeDns
) -> None:
    fake_dns.txt_records["_atproto.quiet.bsky.social"] = [f"did={QUIET_DID}"]
    document = {"id": QUIET_DID, "alsoKnownAs": ["at://quiet.bsky.social"]}
    router.get(f"https://plc.directory/{QUIET_DID}").mock(return_value=httpx.Response(200, json=document))
    router.get(GET_PROFILE, params={"actor": QUIET_DID}).mock(
        return_value=json_sample("bluesky_get_profile_optout.json")
    )
    findings = BlueskyProvider().find(Subject(handles=(Handle("quiet.bsky.social"),)), client)
    assert findings == [Finding(network="bluesky", provider="bluesky", fetched_at=NOW, confidence=0, opt_out=True)]


# --- Website and company ----------------------------------------------------------------


def test_personal_website(router: respx.MockRouter, client: Client) -> None:
    route = router.get("https://ada.example").mock(return_value=html_sample("personal_site.html"))
    assert WebsiteProvider().find(Subject(websites=("https://ada.example",)), client) == [ADA_WEBSITE]
    assert route.calls.last.request.headers["accept"].startswith("text/html")


def test_website_that_is_not_html_gives_nothing(router: respx.MockRouter, client: Client) -> None:
    router.get("https://ada.example/").mock(return_value=httpx.Response(200, json={"name": "Ada"}))
    assert WebsiteProvider().find(Subject(websites=("https://ada.example",)), client) == []


def test_company_from_the_email_domain(router: respx.MockRouter, client: Client) -> None:
    router.get("https://northwind.example/").mock(return_value=html_sample("company_homepage.html"))
    findings = CompanyProvider().find(Subject(emails=("amara@Northwind.example", "amara@gmail.com")), client)
    assert findings == [
        Finding(
            network="company",
            provider="company",
            url="https://northwind.example/",
            display_name="Northwind Traders",
            company="Northwind Traders",
            avatar_url="https://northwind.example/assets/logo.svg",
            bio="Northwind Traders imports and distributes specialty foods across Europe.",
            location="Bristol, GB",
            links=["https://www.linkedin.com/company/northwind-traders-example", "https://social.example/@northwind"],
            source_url="https://northwind.example/",
            fetched_at=NOW,
            confidence=0.6,
        )
    ]


@pytest.mark.parametrize(
    "email",
    ["a@gmail.com", "a@googlemail.com", "a@outlook.com", "a@hotmail.co.uk", "a@yahoo.fr", "a@icloud.com",
     "a@proton.me", "a@gmx.de", "a@gmx.net", "a@web.de"],
)  # fmt: skip
def test_free_mail_domains_are_not_companies(email: str) -> None:
    assert company_domains((email,)) == []


# --- All of Ada's samples together -------------------------------------------------------


def test_two_way_links_verify_profiles_and_one_way_links_do_not(router: respx.MockRouter, client: Client) -> None:
    verified = verify([ADA_WEBSITE, ADA_GITHUB, ADA_FEDIVERSE, ADA_BLUESKY, ADA_GRAVATAR])
    assert [(f.network, f.verified, f.confidence) for f in verified] == [
        ("website", False, 0.9),
        ("github", True, 0.95),
        ("fediverse", True, 0.95),
        ("bluesky", True, 0.95),
        # Gravatar links to GitHub and Mastodon, but the site does not link to Gravatar.
        ("gravatar", False, 0.9),
    ]


def test_a_profile_the_site_links_to_but_that_does_not_link_back_is_only_suggested() -> None:
    impostor = Finding(**{**ADA_GITHUB.__dict__, "verified_links": ["https://someone-else.example"]})
    other_handle = Finding(**{**ADA_BLUESKY.__dict__, "handle": "ada.bsky.social"})
    assert [f.verified for f in verify([ADA_WEBSITE, impostor, other_handle])] == [False, False, False]


def test_a_profile_linking_to_a_site_that_does_not_link_back_is_only_suggested() -> None:
    site = Finding(**{**ADA_WEBSITE.__dict__, "verified_links": []})
    assert [f.verified for f in verify([site, ADA_GITHUB, ADA_FEDIVERSE])] == [False, False, False]
