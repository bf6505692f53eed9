"""Reading an already-fetched HTML page: JSON-LD, OpenGraph, meta tags, icons, microformats.

Parsers here never fetch anything: they get the document and the URL it came from (the
final URL after redirects, for resolving relative links). mf2py is always called with
``doc=`` so it cannot make a request of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import mf2py  # type: ignore[import-untyped]
from bs4 import BeautifulSoup, Tag

from enrichment.sanitize import safe_url, safe_urls

MAX_JSON_LD_NODES = 200
FEED_TYPES = ("application/atom+xml", "application/rss+xml")


def first(value: Any) -> Any:
    """The first item of a list, or the value itself (JSON-LD allows both)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def as_text(value: Any, *keys: str) -> str:
    """A string from a JSON-LD value that may be a string, a list, or an object with ``keys``."""
    value = first(value)
    if isinstance(value, dict):
        for key in keys:
            found = as_text(value.get(key))
            if found:
                return found
        return ""
    return value if isinstance(value, str) else ""


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)}


@dataclass
class Page:
    """One HTML document and its URL, parsed once."""

    html: str
    url: str
    soup: BeautifulSoup = field(init=False)

    def __post_init__(self) -> None:
        self.soup = BeautifulSoup(self.html, "html5lib")

    def json_ld(self, *types: str) -> list[dict[str, Any]]:
        """JSON-LD objects of one of ``types`` anywhere in the page's ld+json scripts (incl. ``@graph``)."""
        found: list[dict[str, Any]] = []
        for script in self.soup.find_all("script", attrs={"type": "application/ld+json"}):
            try:
                data = json.loads(script.string or "")
            except ValueError:
                continue
            found.extend(node for node in _walk(data) if _types(node) & set(types))
        return found

    def meta(self) -> dict[str, str]:
        """``<meta property|name=... content=...>`` by lower-cased key, first occurrence wins."""
        values: dict[str, str] = {}
        for tag in self.soup.find_all("meta"):
            key = str(tag.get("property") or tag.get("name") or "").strip().lower()
            content = tag.get("content")
            if key and isinstance(content, str) and key not in values:
                values[key] = content
        return values

    def link_hrefs(self, rel: str) -> list[str]:
        """Absolute http(s) hrefs of ``<link>`` elements with ``rel`` among their rel values."""
        hrefs = []
        for tag in self.soup.find_all("link"):
            rels: Any = tag.get("rel") or []
            values = rels.split() if isinstance(rels, str) else list(rels)
            if rel in [str(r).lower() for r in values]:
                hrefs.append(tag.get("href"))
        return safe_urls(hrefs, self.url)

    def title(self) -> str:
        tag = self.soup.find("title")
        return tag.get_text() if isinstance(tag, Tag) else ""

    def microformats(self) -> dict[str, Any]:
        # doc= and url= together: mf2py parses what we fetched and only uses url to resolve links.
        return mf2py.parse(doc=self.html, url=self.url)

    def rel_me(self, mf2: dict[str, Any]) -> list[str]:
        """rel=me links from ``<a>`` and ``<link>`` (mf2py collects both), in document order."""
        return safe_urls(mf2.get("rels", {}).get("me", []), self.url)

    def feeds(self, mf2: dict[str, Any]) -> list[str]:
        """Atom/RSS feeds announced with ``<link rel=alternate type=...>``."""
        urls = [
            url
            for url, info in mf2.get("rel-urls", {}).items()
            if "alternate" in info.get("rels", []) and str(info.get("type", "")).lower() in FEED_TYPES
        ]
        return safe_urls(urls, self.url)

    def absolute(self, value: Any) -> str:
        return safe_url(value, self.url)


def _walk(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``data``, breadth-limited so a hostile page cannot make us loop long."""
    stack: list[tuple[Any, int]] = [(data, depth)]
    seen = 0
    while stack and seen < MAX_JSON_LD_NODES:
        node, level = stack.pop(0)
        if isinstance(node, dict):
            seen += 1
            yield node
            children = [v for k, v in node.items() if k == "@graph" or isinstance(v, dict | list)]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if level < 6:
            stack.extend((child, level + 1) for child in children)
