"""Hostile profile data is made inert, special-category data and disallowed fields are dropped."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
import respx
from django.core.exceptions import ImproperlyConfigured

from enrichment.findings import Finding, Handle, Subject
from enrichment.http import Client
from enrichment.providers.fediverse import FediverseProvider
from enrichment.providers.github import GitHubProvider
from enrichment.providers.website import WebsiteProvider, parse_site
from enrichment.restraint import allowed_fields, mentions_special_category, restrain
from enrichment.sanitize import plain_text, safe_url
from tests.enrichment.conftest import sample

MEGABYTE_NAME = "A" * 1_000_000


def test_hostile_github_profile_is_sanitized_and_capped(router: respx.MockRouter, client: Client) -> None:
    user = json.loads(sample("github_user.json")) | {
        "name": MEGABYTE_NAME,
        "bio": '<script>alert("x")</script>Hi <b onclick="steal()">there</b>\u202e',
        "blog": "javascript:alert(1)",
        "avatar_url": "data:image/svg+xml,<svg onload=alert(1)>",
        "location": "<img src=x onerror=alert(1)>Lisbon",
        "html_url": "https://user:pw@github.com/adaexample",
    }
    router.get("https://api.github.com/users/adaexample").mock(return_value=httpx.Response(200, json=user))
    [finding] = GitHubProvider().find(Subject(handles=(Handle("github:adaexample"),)), client)
    assert finding.display_name == "A" * 200
    assert finding.bio == "Hi there"
    assert finding.location == "Lisbon"
    assert (finding.url, finding.avatar_url, finding.verified_links) == ("", "", [])
    assert finding.links == ["https://github.com/example-ltd"]


def test_hostile_activitypub_summary_and_attachments(router: respx.MockRouter, client: Client) -> None:
    router.get("https://social.example/.well-known/webfinger").mock(
        return_value=httpx.Response(200, json=json.loads(sample("webfinger_jrd.json")))
    )
    actor = json.loads(sample("activitypub_actor.json")) | {
        "summary": "<p>Hello</p><script>fetch('/steal')</script><p>&lt;b&gt;world&lt;/b&gt;</p>",
        "attachment": [
            {"type": "PropertyValue", "name": "x", "value": '<a href="javascript:alert(1)">click</a>'},
            {"type": "PropertyValue", "name": "y", "value": '<a href="https://ada.example/?a=1&amp;b=2">site</a>'},
        ],
        "icon": {"url": "javascript:alert(1)"},
    }
    router.get("https://social.example/users/ada").mock(return_value=httpx.Response(200, json=actor))
    router.get("https://social.example/api/v1/accounts/lookup").mock(return_value=httpx.Response(404))
    [finding] = FediverseProvider().find(Subject(handles=(Handle("ada@social.example"),)), client)
    assert finding.bio == "Hello\nworld"
    assert finding.links == ["https://ada.example/?a=1&b=2"]
    assert finding.avatar_url == ""


def test_hostile_personal_page(router: respx.MockRouter, client: Client) -> None:
    page = f"""<html><head><link rel="me" href="javascript:alert(1)"><link rel="me" href="//cdn.example/x"></head>
    <body><div class="h-card"><a class="u-url p-name" href="https://evil.example/">{MEGABYTE_NAME}</a>
    <img class="u-photo" src="data:image/png;base64,AAAA"><p class="p-note">Hi<script>alert(1)</script></p>
    <a rel="me" href="https://evil.example/">me</a></div></body></html>"""
    router.get("https://evil.example").mock(
        return_value=httpx.Response(200, text=page, headers={"Content-Type": "text/html"})
    )
    [finding] = WebsiteProvider().find(Subject(websites=("https://evil.example",)), client)
    assert len(finding.display_name) == 200
    assert finding.bio == "Hi"
    assert finding.avatar_url == ""
    # Scheme-relative links resolve against the page; javascript: is gone.
    assert finding.links == ["https://cdn.example/x", "https://evil.example/"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://Ada.Example/path?q=1", "https://ada.example/path?q=1"),
        ("HTTP://ada.example", "http://ada.example"),
        ("javascript:alert(1)", ""),
        ("JaVaScRiPt:alert(1)", ""),
        ("  javascript:alert(1)", ""),
        ("java\tscript:alert(1)", ""),
        ("data:text/html,<script>", ""),
        ("vbscript:x", ""),
        ("file:///etc/passwd", ""),
        ("/relative", ""),
        ("https://user:pw@ada.example/", ""),
        ("https://ada.example/\u202egnp.exe", ""),
        ("https://" + "a" * 3000 + ".example/", ""),
        ("https://[::1]:8443/x", "https://[::1]:8443/x"),
    ],
)
def test_safe_url(value: str, expected: str) -> None:
    assert safe_url(value) == expected


def test_plain_text_is_a_fixed_point() -> None:
    once = plain_text("&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; hi", 100)
    assert once == "hi"
    assert plain_text(once, 100) == once


@pytest.mark.parametrize(
    "bio",
    [
        "Engineer. Living with type 1 diabetes.",
        "Proud Catholic, father of three",
        "Lifelong Labour Party member",
        "She/her, queer, #LGBTQ in tech",
        "Shop steward at the plant",
        "Latina founder",
        "Building things \U0001f3f3\ufe0f\u200d\U0001f308",
        "Data engineer \u271d\ufe0f",
    ],
)
def test_special_category_bios_are_dropped(bio: str) -> None:
    finding = Finding(network="github", provider="github", url="https://github.com/a", bio=bio, title="Engineer")
    kept = restrain(finding)
    assert (kept.bio, kept.title, kept.url) == ("", "Engineer", "https://github.com/a")


def test_names_are_only_checked_for_symbols_not_words() -> None:
    christian = Finding(network="github", provider="github", display_name="Christian Faith")
    flagged = Finding(network="github", provider="github", display_name="Ada \U0001f3f3\ufe0f\u200d\U0001f308")
    assert restrain(christian).display_name == "Christian Faith"
    assert restrain(flagged).display_name == ""


@pytest.mark.parametrize(
    "text", ["Data engineer. Maps & open data.", "Transport planner", "Ethics in AI", "Graceful degradation"]
)
def test_ordinary_bios_are_kept(text: str) -> None:
    assert not mentions_special_category(text)


def test_only_allowed_fields_are_kept(settings: pytest.FixtureRequest) -> None:
    settings.ENRICHMENT_ALLOWED_FIELDS = ["display_name", "links"]  # type: ignore[attr-defined]
    finding = Finding(
        network="github",
        provider="github",
        url="https://github.com/a",
        handle="a",
        display_name="Ada",
        bio="Maps",
        location="Lisbon",
        links=["https://ada.example"],
        feeds=["https://ada.example/feed"],
        source_url="https://api.github.com/users/a",
    )
    kept = restrain(finding)
    assert (kept.display_name, kept.links, kept.bio, kept.location, kept.feeds) == (
        "Ada",
        ["https://ada.example"],
        "",
        "",
        [],
    )
    assert (kept.url, kept.handle, kept.source_url) == (finding.url, finding.handle, finding.source_url)


def test_unknown_allowed_fields_are_a_configuration_error() -> None:
    with pytest.raises(ImproperlyConfigured, match="raw_payload"):
        allowed_fields(["bio", "raw_payload"])


def test_an_opt_out_finding_keeps_nothing() -> None:
    finding = Finding(network="bluesky", provider="bluesky", url="https://bsky.app/profile/q", bio="x", opt_out=True)
    kept = restrain(finding)
    assert (kept.opt_out, kept.url, kept.bio, kept.handle) == (True, "", "", "")


def test_parse_site_never_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    profile = parse_site(sample("personal_site.html"), "https://ada.example/")
    assert profile.name == "Ada Example"
