"""Two-way rel=me verification over a contact's findings.

A profile is *verified* when the person's own website links to it with ``rel=me`` AND the
profile links back to that website: Mastodon fields / ActivityPub attachment links, GitHub's
``blog``, Gravatar's verified accounts (all in ``Finding.verified_links``), or for Bluesky a
handle that is the website's domain (the domain itself vouches for the handle). A one-way link
proves nothing: anyone can link to anyone. Such profiles stay *suggested* at the confidence
their provider gave them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from enrichment.findings import Finding

VERIFIED_CONFIDENCE = 0.95
WEBSITE = "website"


def comparable_url(url: str) -> str:
    """``url`` reduced for comparison: no scheme, no ``www.``, lower-case host, no trailing slash."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    port = f":{parts.port}" if parts.port not in (None, 80, 443) else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{port}{parts.path.rstrip('/')}{query}"


def _site_links_to(site: Finding, profile: Finding) -> bool:
    return bool(profile.url) and comparable_url(profile.url) in {comparable_url(u) for u in site.verified_links}


def _links_back(profile: Finding, site: Finding) -> bool:
    if profile.network == "bluesky":
        return bool(profile.handle) and profile.handle.lower() == comparable_url(site.url)
    return comparable_url(site.url) in {comparable_url(u) for u in profile.verified_links}


def verify(findings: Sequence[Finding]) -> list[Finding]:
    """The findings in the same order, ``verified`` set (and confidence raised) where two-way links hold."""
    sites = [f for f in findings if f.network == WEBSITE and not f.opt_out and f.url]
    result = []
    for finding in findings:
        two_way = (
            finding.network != WEBSITE
            and not finding.opt_out
            and any(_site_links_to(site, finding) and _links_back(finding, site) for site in sites)
        )
        if two_way:
            finding = replace(finding, verified=True, confidence=max(finding.confidence, VERIFIED_CONFIDENCE))
        result.append(finding)
    return result
