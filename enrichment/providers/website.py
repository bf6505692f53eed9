"""A person's own website: representative h-card, rel=me links, JSON-LD Person, OpenGraph, feeds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from enrichment.findings import TEXT_LIMITS, Finding, Subject
from enrichment.http import Client
from enrichment.pages import Page, as_text, first
from enrichment.sanitize import plain_text
from enrichment.verification import comparable_url

HTML_TYPES = ("text/html", "application/xhtml+xml")
ACCEPT_HTML = "text/html,application/xhtml+xml;q=0.9"
CONFIDENCE = 0.9  # the contact's own site, as staff entered it


@dataclass
class SiteProfile:
    """What a personal page says about its owner (plain text, absolute http(s) URLs)."""

    name: str = ""
    url: str = ""
    photo: str = ""
    note: str = ""
    org: str = ""
    job_title: str = ""
    locality: str = ""
    country: str = ""
    rel_me: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _prop(card: dict[str, Any] | None, name: str, *nested: str) -> Any:
    """The first value of an mf2 property; for embedded objects their ``value`` (or a nested property)."""
    if not card:
        return ""
    value = first(card.get("properties", {}).get(name, []))
    if isinstance(value, dict):
        for key in nested:
            inner = _prop(value, key)
            if inner:
                return inner
        return value.get("value", "")
    return value or ""


def representative_hcard(mf2: dict[str, Any], page_url: str, rel_me: list[str]) -> dict[str, Any] | None:
    """The page owner's h-card, by the microformats "representative h-card" rules.

    1. an h-card whose ``uid`` and ``url`` are the page URL; 2. one whose ``url`` is also a
    rel=me link of the page; 3. the only h-card of the page, if its ``url`` is the page URL.
    Otherwise none: an h-card of someone quoted on the page is not the owner.
    """
    cards = [item for item in mf2.get("items", []) if "h-card" in item.get("type", [])]
    page = comparable_url(page_url)
    me = {comparable_url(url) for url in rel_me}

    def urls(card: dict[str, Any], name: str) -> set[str]:
        values = card.get("properties", {}).get(name, [])
        return {comparable_url(v) for v in values if isinstance(v, str)}

    for card in cards:
        if page in urls(card, "uid") and page in urls(card, "url"):
            return card
    for card in cards:
        if urls(card, "url") & me:
            return card
    if len(cards) == 1 and page in urls(cards[0], "url"):
        return cards[0]
    return None


def parse_site(html: str, url: str) -> SiteProfile:
    """Everything the website provider reads from a page, without any network access.

    The h-card wins; JSON-LD ``Person`` and then OpenGraph ``profile`` fill what it leaves empty.
    """
    page = Page(html, url)
    mf2 = page.microformats()
    rel_me = page.rel_me(mf2)
    card = representative_hcard(mf2, url, rel_me)
    person = first(page.json_ld("Person")) or {}
    meta = page.meta()
    og_profile = meta.get("og:type", "").lower() == "profile"
    og_name = " ".join(filter(None, (meta.get("profile:first_name"), meta.get("profile:last_name"))))
    address = first(person.get("address")) if isinstance(person.get("address"), dict | list) else {}

    def text(*candidates: Any, limit: int = TEXT_LIMITS["display_name"]) -> str:
        return next((t for t in (plain_text(c, limit) for c in candidates) if t), "")

    def link(*candidates: Any) -> str:
        return next((u for u in (page.absolute(c) for c in candidates) if u), "")

    return SiteProfile(
        name=text(_prop(card, "name"), person.get("name"), og_name or (og_profile and meta.get("og:title"))),
        url=link(_prop(card, "url"), person.get("url"), og_profile and meta.get("og:url")),
        photo=link(
            _prop(card, "photo"), as_text(person.get("image"), "url", "contentUrl"), og_profile and meta.get("og:image")
        ),
        note=text(
            _prop(card, "note"),
            person.get("description"),
            og_profile and meta.get("og:description"),
            limit=TEXT_LIMITS["bio"],
        ),
        org=text(_prop(card, "org", "name"), as_text(person.get("worksFor"), "name")),
        job_title=text(_prop(card, "job-title"), as_text(person.get("jobTitle"))),
        locality=text(
            _prop(card, "locality") or _prop(card, "adr", "locality"),
            as_text(address, "addressLocality") if isinstance(address, dict) else "",
        ),
        country=text(
            _prop(card, "country-name") or _prop(card, "adr", "country-name"),
            as_text(address, "addressCountry") if isinstance(address, dict) else "",
        ),
        rel_me=rel_me,
        feeds=page.feeds(mf2),
    )


def site_finding(profile: SiteProfile, *, page_url: str) -> Finding:
    """The finding for a parsed personal site fetched from ``page_url`` (its final URL)."""
    return Finding(
        network="website",
        provider=WebsiteProvider.name,
        url=page_url,
        display_name=profile.name,
        avatar_url=profile.photo,
        bio=profile.note,
        location=", ".join(filter(None, (profile.locality, profile.country))),
        company=profile.org,
        title=profile.job_title,
        links=profile.rel_me,
        feeds=profile.feeds,
        verified_links=profile.rel_me,
        source_url=page_url,
        confidence=CONFIDENCE,
    )


class WebsiteProvider:
    name = "website"

    def find(self, subject: Subject, client: Client) -> list[Finding]:
        findings = []
        for website in dict.fromkeys(subject.websites):
            fetched = client.get(website, headers={"Accept": ACCEPT_HTML})
            if fetched.content_type not in HTML_TYPES:
                continue
            findings.append(site_finding(parse_site(fetched.text, fetched.url), page_url=fetched.url))
        return findings
