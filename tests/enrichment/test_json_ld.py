"""JSON-LD Person on a personal page: at the top level, inside ``@graph``, and with a list of types."""

from __future__ import annotations

import json
from typing import Any

from enrichment.providers.website import SiteProfile, parse_site

URL = "https://ada.example/"


def page(*blocks: Any) -> str:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(block)}</script>' for block in blocks)
    return f"<!doctype html><html><head><title>Home</title>{scripts}</head><body><p>Hello</p></body></html>"


PERSON = {
    "@type": "Person",
    "name": "Ada Example",
    "url": "/about",
    "image": {"@type": "ImageObject", "url": "https://ada.example/ada.jpg"},
    "description": "Writes compilers.",
    "jobTitle": "Engineer",
    "worksFor": {"@type": "Organization", "name": "Analytical Engines"},
    "address": {"@type": "PostalAddress", "addressLocality": "London", "addressCountry": "UK"},
}
EXPECTED = SiteProfile(
    name="Ada Example",
    url="https://ada.example/about",
    photo="https://ada.example/ada.jpg",
    note="Writes compilers.",
    org="Analytical Engines",
    job_title="Engineer",
    locality="London",
    country="UK",
)


def test_a_person_at_the_top_level() -> None:
    assert parse_site(page({"@context": "https://schema.org", **PERSON}), URL) == EXPECTED


def test_a_person_inside_a_graph_next_to_other_nodes() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Ada's site", "url": URL},
            {"@type": "Organization", "name": "Not the owner", "url": "https://org.example/"},
            {"@id": "https://ada.example/#me", **PERSON},
        ],
    }
    assert parse_site(page(graph), URL) == EXPECTED


def test_a_person_with_a_list_of_types_and_a_full_type_iri() -> None:
    person = {**PERSON, "@type": ["http://schema.org/Person", "Author"]}
    assert parse_site(page({"@type": "WebPage", "name": "Home"}, person), URL) == EXPECTED


def test_a_page_without_a_person_says_nothing_about_its_owner() -> None:
    assert parse_site(page({"@type": "Organization", "name": "Analytical Engines"}), URL) == SiteProfile()
