"""Gravatar: the public profile behind an email address (REST API v3, legacy JSON as a fallback)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from enrichment.findings import Finding, Subject
from enrichment.http import Client, FetchError, NotFound
from enrichment.sanitize import safe_urls

CONFIDENCE = 0.9  # looked up by the contact's own email address


def _emails(subject: Subject) -> list[str]:
    return list(dict.fromkeys(e.strip().lower() for e in subject.emails if "@" in e))


def _handle(profile_url: str) -> str:
    return urlsplit(profile_url).path.strip("/").rpartition("/")[2]


def v3_finding(data: dict[str, Any], *, source_url: str) -> Finding:
    """A finding from a ``GET /v3/profiles/<sha256>`` body."""
    verified = safe_urls(
        a.get("url") for a in data.get("verified_accounts") or [] if isinstance(a, dict) and not a.get("is_hidden")
    )
    links = safe_urls(link.get("url") for link in data.get("links") or [] if isinstance(link, dict))
    return Finding(
        network="gravatar",
        provider=GravatarProvider.name,
        url=data.get("profile_url", ""),
        handle=_handle(str(data.get("profile_url", ""))),
        display_name=data.get("display_name", ""),
        avatar_url=data.get("avatar_url", ""),
        bio=data.get("description", ""),
        location=data.get("location", ""),
        company=data.get("company", ""),
        title=data.get("job_title", ""),
        links=[*verified, *links],
        verified_links=verified,
        source_url=source_url,
        confidence=CONFIDENCE,
    )


def legacy_finding(data: dict[str, Any], *, source_url: str) -> Finding | None:
    """A finding from the old ``<md5>.json`` body (``{"entry": [...]}``)."""
    entries = data.get("entry") or []
    if not entries or not isinstance(entries[0], dict):
        return None
    entry = entries[0]
    name = entry.get("name")
    name = name if isinstance(name, dict) else {}
    verified = safe_urls(
        a.get("url") for a in entry.get("accounts") or [] if isinstance(a, dict) and str(a.get("verified")) == "true"
    )
    urls = safe_urls(u.get("value") for u in entry.get("urls") or [] if isinstance(u, dict))
    return Finding(
        network="gravatar",
        provider=GravatarProvider.name,
        url=entry.get("profileUrl", ""),
        handle=entry.get("preferredUsername", ""),
        display_name=entry.get("displayName") or name.get("formatted", ""),
        avatar_url=entry.get("thumbnailUrl", ""),
        bio=entry.get("aboutMe", ""),
        location=entry.get("currentLocation", ""),
        links=[*verified, *urls],
        verified_links=verified,
        source_url=source_url,
        confidence=CONFIDENCE,
    )


class GravatarProvider:
    name = "gravatar"

    def find(self, subject: Subject, client: Client) -> list[Finding]:
        findings = []
        for email in _emails(subject):
            finding = self._lookup(email, client)
            if finding is not None:
                findings.append(finding)
        return findings

    def _lookup(self, email: str, client: Client) -> Finding | None:
        url = f"{settings.ENRICHMENT_GRAVATAR_URL}/profiles/{hashlib.sha256(email.encode()).hexdigest()}"
        headers = {"Accept": "application/json"}
        if settings.GRAVATAR_API_KEY:
            headers["Authorization"] = f"Bearer {settings.GRAVATAR_API_KEY}"
        try:
            return v3_finding(client.get_json(url, headers=headers), source_url=url)
        except NotFound:
            return None
        except FetchError as exc:
            # Rate-limited or down: the old endpoint has its own limits, try it once.
            if not exc.transient:
                raise
            legacy_error = exc
        md5 = hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()
        legacy_url = f"{settings.ENRICHMENT_GRAVATAR_LEGACY_URL}/{md5}.json"
        try:
            return legacy_finding(client.get_json(legacy_url), source_url=legacy_url)
        except FetchError as exc:
            # The REST API's error (with its retry_after) is the one worth retrying on.
            raise legacy_error from exc
