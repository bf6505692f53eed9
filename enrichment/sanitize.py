"""Turning untrusted profile data into short plain text and safe http(s) URLs.

Everything a provider returns was written by a stranger: bios and ActivityPub summaries are
HTML, names can be a megabyte long, links can be ``javascript:``. What we keep is plain text
(escaped when rendered, like any text) and absolute http(s) URLs.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import nh3

MAX_URL_LENGTH = 2048
MAX_LINKS = 20

# Block-level ends become line breaks so "<p>a</p><p>b</p>" does not read "ab".
_BLOCK_END = re.compile(r"<\s*(br\s*/?|/p|/div|/li|/h[1-6])\s*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


# Zero-width (non-)joiners are format characters that emoji sequences and some scripts need.
_KEPT_FORMAT = {"\n", "\u200c", "\u200d"}


def _strip_controls(value: str) -> str:
    # Drops control and format characters (bidi overrides that disguise text, NULs) but
    # keeps line breaks and joiners.
    return "".join(ch for ch in value if ch in _KEPT_FORMAT or unicodedata.category(ch)[0] != "C")


def _text_once(value: str, max_length: int) -> str:
    value = _BLOCK_END.sub("\n", value)
    # nh3 with no allowed tags keeps only text; <script>/<style> bodies go with their tags.
    value = html.unescape(nh3.clean(value, tags=set()))
    value = _strip_controls(value.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (_SPACES.sub(" ", line).strip() for line in value.split("\n"))
    value = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return value[:max_length].rstrip()


def plain_text(value: Any, max_length: int) -> str:
    """Plain text from text or HTML, whitespace tidied, at most ``max_length`` characters.

    Repeated until nothing changes, so the result is a fixed point: cleaning it again gives
    the same text (``&lt;script&gt;`` cannot turn into a tag on a second pass).
    """
    if not isinstance(value, str):
        return ""
    # Cut long input early: a 1 MB name should not cost a 1 MB parse.
    text = value[: max_length * 8]
    for _ in range(5):
        cleaned = _text_once(text, max_length)
        if cleaned == text:
            break
        text = cleaned
    return text


def safe_url(value: Any, base: str = "") -> str:
    """An absolute http(s) URL, or "" for anything else (``javascript:``, ``data:``, relative without base).

    Scheme and host are lower-cased; URLs with credentials, whitespace or control characters
    inside, or longer than ``MAX_URL_LENGTH`` are dropped.
    """
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if not value or len(value) > MAX_URL_LENGTH:
        return ""
    if base:
        value = urljoin(base, value)
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in value):
        return ""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return ""
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    if ":" in parts.hostname:
        netloc = f"[{parts.hostname}]" if port is None else f"[{parts.hostname}]:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def safe_urls(values: Iterable[Any], base: str = "") -> list[str]:
    """``safe_url`` over a list: unsafe ones dropped, duplicates removed, at most ``MAX_LINKS``."""
    urls = [url for url in (safe_url(value, base) for value in values) if url]
    return list(dict.fromkeys(urls))[:MAX_LINKS]


def links_in_html(value: Any) -> list[str]:
    """The http(s) hrefs inside an HTML fragment (ActivityPub attachments, Mastodon fields)."""
    if not isinstance(value, str):
        return []
    hrefs = re.findall(r"""href\s*=\s*["']([^"']+)["']""", value[:10_000], flags=re.IGNORECASE)
    return safe_urls(html.unescape(href) for href in hrefs)


def links_in_text(value: Any) -> list[str]:
    """http(s) URLs written out in plain text (a Bluesky description)."""
    if not isinstance(value, str):
        return []
    return safe_urls(url.rstrip(".,;:!?)") for url in re.findall(r"https?://[^\s<>\"']+", value[:10_000]))
