"""The fediverse: WebFinger -> ActivityPub actor, plus Mastodon's account lookup on the home instance.

Opt-out: an account that is not ``discoverable`` is looked up only from a handle staff gave
explicitly, never from one we discovered (a rel=me link, another profile).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from enrichment.findings import Finding, Handle, Subject
from enrichment.http import Client, FetchError
from enrichment.pages import as_text, first
from enrichment.sanitize import links_in_html, safe_url

ACTIVITY_JSON = "application/activity+json"
ACTOR_TYPES = (ACTIVITY_JSON, 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"')
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
CONFIDENCE_EXPLICIT = 0.8
CONFIDENCE_DISCOVERED = 0.6
OTHER_NETWORKS = ("github", "bluesky", "bsky")


def _actor_url(jrd: dict[str, Any]) -> str:
    for link in jrd.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "self" and link.get("type") in ACTOR_TYPES:
            return safe_url(link.get("href"))
    return ""


def _profile_page(jrd: dict[str, Any]) -> str:
    for link in jrd.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == PROFILE_PAGE:
            return safe_url(link.get("href"))
    return ""


def actor_finding(
    actor: dict[str, Any],
    account: dict[str, Any] | None,
    *,
    handle: str,
    profile_page: str,
    source_url: str,
    confidence: float,
) -> Finding:
    """A finding from an ActivityPub actor and, on Mastodon, its ``accounts/lookup`` record.

    Links the profile claims as its own (attachment links, and fields the instance verified)
    become ``verified_links``; summary and attachment values are HTML and become plain text.
    """
    attachment_links = [
        link
        for item in actor.get("attachment") or []
        if isinstance(item, dict) and item.get("type") == "PropertyValue"
        for link in links_in_html(item.get("value"))
    ]
    fields = [f for f in (account or {}).get("fields") or [] if isinstance(f, dict)]
    field_links = [link for f in fields for link in links_in_html(f.get("value"))]
    verified_field_links = [link for f in fields if f.get("verified_at") for link in links_in_html(f.get("value"))]
    url = safe_url(as_text(actor.get("url"), "href")) or profile_page or safe_url(actor.get("id"))
    account = account or {}
    mastodon_url = safe_url(account.get("url"))
    return Finding(
        network="fediverse",
        provider=FediverseProvider.name,
        url=url,
        handle=handle,
        display_name=account.get("display_name") or actor.get("name") or "",
        avatar_url=as_text(actor.get("icon"), "url") or account.get("avatar", ""),
        bio=actor.get("summary") or account.get("note") or "",
        links=[*attachment_links, *field_links],
        verified_links=[*attachment_links, *verified_field_links],
        # Mastodon publishes public posts at <profile>.rss; other servers don't promise it.
        feeds=[f"{mastodon_url}.rss"] if mastodon_url else [],
        source_url=source_url,
        confidence=confidence,
    )


class FediverseProvider:
    name = "fediverse"

    def find(self, subject: Subject, client: Client) -> list[Finding]:
        findings = []
        for handle in dict.fromkeys(subject.handles):
            acct = None if handle.label.strip().lower() in OTHER_NETWORKS else handle.fediverse_acct()
            if acct is not None:
                finding = self._lookup(*acct, handle=handle, client=client)
                if finding is not None:
                    findings.append(finding)
        return findings

    def _lookup(self, user: str, host: str, *, handle: Handle, client: Client) -> Finding | None:
        jrd = client.get_json(
            f"https://{host}/.well-known/webfinger",
            params={"resource": f"acct:{user}@{host}"},
            headers={"Accept": "application/jrd+json, application/json"},
        )
        actor_url = _actor_url(jrd) if isinstance(jrd, dict) else ""
        if not actor_url:
            return None
        actor = client.get_json(actor_url, headers={"Accept": ACTIVITY_JSON})
        # The actor must live where WebFinger pointed, or any server could speak for anyone.
        if not isinstance(actor, dict) or urlsplit(safe_url(actor.get("id"))).hostname != urlsplit(actor_url).hostname:
            return None
        account = self._mastodon_account(actor, client)
        discoverable = actor.get("discoverable") is True and (account is None or account.get("discoverable") is True)
        if not discoverable and not handle.explicit:
            return Finding.opted_out(network="fediverse", provider=self.name)
        subject = str(jrd.get("subject", "")).removeprefix("acct:")
        return actor_finding(
            actor,
            account,
            handle=f"@{subject}" if "@" in subject else f"@{user}@{host}",
            profile_page=_profile_page(jrd),
            source_url=actor_url,
            confidence=CONFIDENCE_EXPLICIT if handle.explicit else CONFIDENCE_DISCOVERED,
        )

    def _mastodon_account(self, actor: dict[str, Any], client: Client) -> dict[str, Any] | None:
        """The home instance's account record (Mastodon and compatibles); None where there is none."""
        home = urlsplit(safe_url(actor.get("id"))).hostname
        username = first(actor.get("preferredUsername"))
        if not home or not isinstance(username, str) or not username:
            return None
        try:
            account = client.get_json(f"https://{home}/api/v1/accounts/lookup", params={"acct": username})
        except FetchError as exc:
            # Not Mastodon, or the instance wants authentication: the actor is enough.
            if exc.transient:
                raise
            return None
        return account if isinstance(account, dict) else None
