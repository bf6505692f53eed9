"""Social listening: new public posts of a contact's accepted profiles onto their timeline.

Feeds (Mastodon ``@user.rss``, Bluesky's profile RSS, a website's Atom/RSS) are fetched by
the guarded client and only then handed to feedparser as bytes in a file object: feedparser
never fetches anything itself (given a string it would fetch URLs and open local paths).

Only where the gate allows ``social_listening``; a post's sentiment label only where it
also allows ``sentiment_analysis``. Posts are deduplicated by their feed guid (the timeline's
``external_id``), so reading a feed twice records nothing twice. A post mentioning one of the
team's ``ListeningKeyword``s creates a reminder for the contact's owner. A post whose title or
text mentions special-category data (``restraint.mentions_special_category``, the filter
profiles go through) is dropped whole: not stored, no alert.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from consent.selectors import unlinked_networks
from contacts.models import Activity, Contact
from contacts.registry import gate_allows, processing
from contacts.services import reminders
from contacts.services.timeline import activity_record
from enrichment.http import Client, FetchError
from enrichment.models import ListeningKeyword, SocialProfile
from enrichment.pipeline import shared_client
from enrichment.restraint import mentions_special_category
from enrichment.sanitize import plain_text, safe_url
from enrichment.sentiment import sentiment_label
from enrichment.services import network_unlinked

logger = logging.getLogger(__name__)

FEED_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8"
MAX_FEEDS_PER_PROFILE = 3
MAX_ENTRIES_PER_FEED = 20
BODY_LIMIT = 2000


def _published(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _keywords_in(text: str, keywords: list[str]) -> list[str]:
    lowered = text.lower()
    return [k for k in keywords if re.search(rf"(?<!\w){re.escape(k.lower())}(?!\w)", lowered)]


def _alert(contact: Contact, post: Activity, matched: list[str]) -> None:
    """A reminder for the owner to look at the post; a timeline note when there is no one to remind."""
    note = f"Public post mentions {', '.join(repr(k) for k in matched)}."
    owner = contact.owner
    if owner is not None:
        try:
            reminders.reminder_create(actor=owner, contact=contact, assignee=owner, due_at=timezone.now(), note=note)
            return
        except PermissionDenied:
            pass  # the owner may no longer work with this contact's team
    activity_record(
        contact=contact,
        kind=Activity.Kind.NOTE,
        subject="Keyword alert",
        body=note,
        source="listening",
        payload={"activity_id": post.pk, "keywords": matched},
    )


def _record(
    contact: Contact,
    profile: SocialProfile,
    entry: Any,
    *,
    keywords: list[str],
    with_sentiment: bool,
    since: datetime,
) -> bool:
    guid = str(entry.get("id") or entry.get("link") or "")
    published = _published(entry)
    if not guid or (published is not None and published < since):
        return False
    title = plain_text(entry.get("title", ""), 200)
    text = plain_text(entry.get("summary", ""), BODY_LIMIT)
    if mentions_special_category(title) or mentions_special_category(text):
        # Restraint's filter, as for profiles: such a post is not stored (nor alerted on) at all.
        return False
    payload: dict[str, Any] = {"profile_id": profile.pk, "network": profile.network}
    link = safe_url(entry.get("link", ""))
    if link:
        payload["url"] = link
    if with_sentiment:
        payload["sentiment"] = sentiment_label(f"{title} {text}")
    matched = _keywords_in(f"{title} {text}", keywords)
    if matched:
        payload["keywords"] = matched
    digest = hashlib.sha256(f"{profile.network}\n{guid}".encode()).hexdigest()
    post, created = activity_record(
        contact=contact,
        kind=Activity.Kind.SOCIAL_POST,
        occurred_at=published,
        subject=title or text[:120],
        body=text,
        source=profile.network,
        external_id=f"feed:{digest}",
        payload=payload,
    )
    if created and matched:
        _alert(contact, post, matched)
    return created


@processing(purpose="social_listening")
def listen(contact: Contact, *, client: Client | None = None) -> int:
    """Read the feeds of ``contact``'s accepted profiles; return how many new posts were recorded.

    Asks the gate first (no request at all when listening is not allowed). Posts older than
    ``ENRICHMENT_LISTENING_LOOKBACK_DAYS`` are not imported; a feed that cannot be fetched
    is skipped until the next sweep.
    """
    if not gate_allows(contact, "social_listening").allowed:
        return 0
    unlinked = unlinked_networks(contact)
    profiles = [
        profile
        for profile in SocialProfile.objects.filter(contact=contact, status=SocialProfile.Status.ACCEPTED)
        if profile.feeds and not network_unlinked(profile.network, unlinked)
    ]
    if not profiles:
        return 0
    with_sentiment = gate_allows(contact, "sentiment_analysis").allowed
    keywords = list(ListeningKeyword.objects.filter(team_id=contact.team_id).values_list("keyword", flat=True))
    now = timezone.now()
    since = now - timedelta(days=settings.ENRICHMENT_LISTENING_LOOKBACK_DAYS)
    created = 0
    client = client or shared_client()
    for profile in profiles:
        for feed_url in profile.feeds[:MAX_FEEDS_PER_PROFILE]:
            try:
                fetched = client.get(feed_url, headers={"Accept": FEED_ACCEPT})
            except FetchError as exc:
                logger.info("Feed of profile %s not read: %s", profile.pk, type(exc).__name__)
                continue
            parsed = feedparser.parse(io.BytesIO(fetched.content))
            for entry in parsed.entries[:MAX_ENTRIES_PER_FEED]:
                created += _record(
                    contact, profile, entry, keywords=keywords, with_sentiment=with_sentiment, since=since
                )
        SocialProfile.objects.filter(pk=profile.pk).update(listened_at=now)
    return created
