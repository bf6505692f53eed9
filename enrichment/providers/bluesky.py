"""Bluesky: handle -> DID (DNS TXT or /.well-known/atproto-did) -> DID document -> public profile.

The DID document must claim the handle back (``alsoKnownAs`` contains ``at://<handle>``),
otherwise anyone could point a handle at someone else's account. A profile labelled
``!no-unauthenticated`` asked not to be shown to logged-out viewers: we keep nothing.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from enrichment.findings import Finding, Handle, Subject
from enrichment.http import Client, NotFound
from enrichment.sanitize import links_in_text

DOMAIN_HANDLE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
DID = re.compile(r"^did:(?:plc:[a-z0-9]{24}|web:[a-z0-9.\-]+)$")
OPT_OUT_LABEL = "!no-unauthenticated"
CONFIDENCE_EXPLICIT = 0.8
CONFIDENCE_DISCOVERED = 0.6


def bluesky_handle(handle: Handle) -> str:
    """The domain handle in ``ada.bsky.social``, a ``bluesky``-labelled ``@ada.example``,
    ``at://ada.example`` or ``https://bsky.app/profile/ada.example``."""
    value = handle.normalized.lower()
    host, path = handle.url_parts()
    if host:
        segments = [s for s in path.split("/") if s]
        name = segments[1] if host == "bsky.app" and len(segments) == 2 and segments[0] == "profile" else ""
    elif value.startswith("at://"):
        name = value[len("at://") :]
    elif handle.label.strip().lower() in ("bluesky", "bsky") or value.lstrip("@").endswith(".bsky.social"):
        name = value.lstrip("@")
    else:
        name = ""
    return name if DOMAIN_HANDLE.match(name) else ""


def resolve_did(handle: str, client: Client) -> str:
    """The DID a handle claims, from DNS TXT ``_atproto.<handle>`` or its well-known file; "" if none."""
    for record in client.txt(f"_atproto.{handle}"):
        if record.startswith("did="):
            did = record[len("did=") :].strip()
            return did if DID.match(did) else ""
    try:
        did = client.get(f"https://{handle}/.well-known/atproto-did", headers={"Accept": "text/plain"}).text.strip()
    except NotFound:
        return ""
    return did if DID.match(did) else ""


def did_document_url(did: str) -> str:
    if did.startswith("did:plc:"):
        return f"{settings.ENRICHMENT_PLC_DIRECTORY_URL}/{did}"
    return f"https://{did.removeprefix('did:web:')}/.well-known/did.json"


def profile_finding(profile: dict[str, Any], *, handle: str, did: str, source_url: str, confidence: float) -> Finding:
    """A finding from an ``app.bsky.actor.getProfile`` body (or the opt-out finding)."""
    labels = [label.get("val") for label in profile.get("labels") or [] if isinstance(label, dict)]
    if OPT_OUT_LABEL in labels:
        return Finding.opted_out(network="bluesky", provider=BlueskyProvider.name)
    description = profile.get("description") or ""
    return Finding(
        network="bluesky",
        provider=BlueskyProvider.name,
        url=f"https://bsky.app/profile/{handle}",
        handle=handle,
        display_name=profile.get("displayName") or "",
        avatar_url=profile.get("avatar", ""),
        bio=description,
        links=links_in_text(description),
        feeds=[f"https://bsky.app/profile/{did}/rss"],
        source_url=source_url,
        confidence=confidence,
    )


class BlueskyProvider:
    name = "bluesky"

    def find(self, subject: Subject, client: Client) -> list[Finding]:
        findings = []
        for handle in dict.fromkeys(subject.handles):
            name = bluesky_handle(handle)
            if name:
                finding = self._lookup(name, handle.explicit, client)
                if finding is not None:
                    findings.append(finding)
        return findings

    def _lookup(self, handle: str, explicit: bool, client: Client) -> Finding | None:
        did = resolve_did(handle, client)
        if not did:
            return None
        try:
            document = client.get_json(did_document_url(did))
        except NotFound:
            return None
        if not isinstance(document, dict) or document.get("id") != did:
            return None
        if f"at://{handle}" not in [str(a).lower() for a in document.get("alsoKnownAs") or []]:
            return None
        url = f"{settings.ENRICHMENT_BLUESKY_API_URL}/xrpc/app.bsky.actor.getProfile"
        try:
            profile = client.get_json(url, params={"actor": did})
        except NotFound:
            return None
        if not isinstance(profile, dict) or profile.get("did") != did:
            return None
        return profile_finding(
            profile,
            handle=handle,
            did=did,
            source_url=f"{url}?actor={did}",
            confidence=CONFIDENCE_EXPLICIT if explicit else CONFIDENCE_DISCOVERED,
        )
