"""What providers take and give: a ``Subject`` (plain data about a contact) and ``Finding``s.

Both are plain dataclasses with no ORM objects, so providers are testable without a
database and a finding maps field for field onto the SocialProfile row that stores it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from django.utils import timezone

from enrichment.sanitize import plain_text, safe_url, safe_urls

if TYPE_CHECKING:
    from enrichment.http import Client

# Fields a workspace may choose to keep (ENRICHMENT_ALLOWED_FIELDS). Identity and provenance
# (network, url, handle, provider, source_url, fetched_at, confidence, verification) are
# always kept: without them a value could not be traced or removed.
STORABLE_FIELDS = ("display_name", "avatar_url", "bio", "location", "company", "title", "links", "feeds")
TEXT_LIMITS = {"handle": 200, "display_name": 200, "bio": 1000, "location": 200, "company": 200, "title": 200}

_ACCT = re.compile(r"^@?([a-z0-9_.\-]+)@([a-z0-9.\-]+\.[a-z]{2,})$", re.IGNORECASE)


@dataclass(frozen=True)
class Handle:
    """A social handle of the contact. ``explicit`` is False for handles we discovered ourselves
    (e.g. from a rel=me link); opt-out rules such as Mastodon's ``discoverable: false`` only
    allow explicitly given ones."""

    value: str
    label: str = ""
    explicit: bool = True

    @property
    def normalized(self) -> str:
        return self.value.strip()

    def url_parts(self) -> tuple[str, str]:
        """(host, path) when the handle is written as a profile URL, else ("", "")."""
        if "://" not in self.normalized:
            return "", ""
        parts = urlsplit(safe_url(self.normalized))
        return (parts.hostname or "", parts.path)

    def fediverse_acct(self) -> tuple[str, str] | None:
        """(user, host) for ``@user@host``, ``user@host`` or ``https://host/@user``."""
        match = _ACCT.match(self.normalized)
        if match:
            return match.group(1), match.group(2).lower()
        host, path = self.url_parts()
        segments = [s for s in path.split("/") if s]
        if host and len(segments) == 1 and segments[0].startswith("@") and len(segments[0]) > 1:
            return segments[0][1:], host
        return None


@dataclass(frozen=True)
class Subject:
    """What we know about a contact that providers may look up with."""

    emails: tuple[str, ...] = ()
    websites: tuple[str, ...] = ()
    handles: tuple[Handle, ...] = ()


@dataclass
class Finding:
    """One public profile found by a provider, with where and when it came from.

    Every text field is made plain text and capped, every URL an absolute http(s) URL (or
    dropped), on construction, so no provider can hand on unsafe data. ``verified_links``
    are links the profile itself asserts as the same person (rel=me back-links, Mastodon's
    verified fields, GitHub's ``blog``, Gravatar's verified accounts). ``opt_out`` means the
    person asked not to be looked up: such a finding carries no data and callers store nothing.
    """

    network: str
    provider: str
    url: str = ""
    handle: str = ""
    display_name: str = ""
    avatar_url: str = ""
    bio: str = ""
    location: str = ""
    company: str = ""
    title: str = ""
    links: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    verified_links: list[str] = field(default_factory=list)
    source_url: str = ""
    fetched_at: datetime = field(default_factory=timezone.now)
    confidence: float = 0.5
    verified: bool = False
    opt_out: bool = False

    def __post_init__(self) -> None:
        for name, limit in TEXT_LIMITS.items():
            setattr(self, name, plain_text(getattr(self, name), limit))
        for name in ("url", "avatar_url", "source_url"):
            setattr(self, name, safe_url(getattr(self, name)))
        for name in ("links", "feeds", "verified_links"):
            setattr(self, name, safe_urls(getattr(self, name)))
        self.confidence = min(1.0, max(0.0, float(self.confidence)))

    @classmethod
    def opted_out(cls, *, network: str, provider: str) -> Finding:
        """The finding for a person who opted out: no URL, handle or profile data at all."""
        return cls(network=network, provider=provider, confidence=0.0, opt_out=True)


class Provider(Protocol):
    """A public source of profiles. ``find`` returns findings for whatever in ``subject`` it
    understands (an empty list when nothing), raising ``enrichment.http.FetchError`` and its
    subclasses when the source could not be asked."""

    name: str

    def find(self, subject: Subject, client: Client) -> list[Finding]: ...
