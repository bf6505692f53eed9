"""What enrichment may keep: the field allow-list and the special-category filter.

GDPR Art. 9 data (health, religion or belief, political opinion, sex life or sexual
orientation, trade-union membership, racial or ethnic origin) is never stored, whatever a
public profile says. We cannot understand text, so the filter is deliberately blunt: when a
free-text field mentions a term from the lists below, the whole field is dropped.

Honest limits: it only knows English terms and a few symbols; it misses paraphrase, other
languages, images and what a link points to (a link to a church or a party is kept); and it
drops harmless text too ("liberal arts", "pride in our work"). Dropping too much is the
intended failure. Staff must not type such data into the contact by hand either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from enrichment.findings import STORABLE_FIELDS, Finding

SPECIAL_CATEGORY_TERMS: dict[str, tuple[str, ...]] = {
    "health": (
        "adhd",
        "autism",
        "autistic",
        "bipolar",
        "cancer",
        "chronic illness",
        "chronically ill",
        "depression",
        "diabetes",
        "diabetic",
        "diagnosed",
        "disabled",
        "disability",
        "hiv",
        "mental health",
        "mental illness",
        "neurodivergent",
        "pregnant",
        "pregnancy",
        "recovering addict",
        "sober",
        "sobriety",
        "spoonie",
        "therapy",
        "wheelchair",
    ),
    "religion": (
        "atheist",
        "bible",
        "buddhist",
        "catholic",
        "christ",
        "christian",
        "church",
        "evangelical",
        "faith",
        "god",
        "hindu",
        "imam",
        "islam",
        "jesus",
        "jewish",
        "mosque",
        "muslim",
        "pastor",
        "quran",
        "rabbi",
        "sikh",
        "synagogue",
        "torah",
    ),
    "politics": (
        "antifa",
        "communist",
        "conservative",
        "democrat",
        "fascist",
        "green party",
        "labour party",
        "leftist",
        "liberal",
        "libertarian",
        "maga",
        "marxist",
        "party member",
        "progressive",
        "republican",
        "socialist",
        "tory",
        "vote",
    ),
    "sexuality": (
        "asexual",
        "bisexual",
        "gay",
        "lesbian",
        "lgbt",
        "lgbtq",
        "lgbtqia",
        "nonbinary",
        "non-binary",
        "pansexual",
        "pride",
        "queer",
        "trans",
        "transgender",
    ),
    "union": (
        "labor union",
        "labour union",
        "shop steward",
        "trade union",
        "trade unionist",
        "union member",
        "union rep",
        "unionist",
    ),
    "ethnicity": (
        "aboriginal",
        "african american",
        "asian american",
        "ethnic",
        "ethnicity",
        "first nations",
        "hispanic",
        "indigenous",
        "latina",
        "latino",
        "latinx",
        "race",
    ),
}
# Flags and symbols that announce the same things in names and bios, written without the
# emoji variation selector (U+FE0F), which is removed from the text before matching.
SPECIAL_CATEGORY_SYMBOLS = (
    "\U0001f3f3\u200d\U0001f308",  # rainbow flag
    "\U0001f3f3\u200d\u26a7",  # transgender flag
    "\u271d",  # latin cross
    "\u262a",  # star and crescent
    "\u2721",  # star of David
    "\U0001f549",  # om
    "\u2626",  # orthodox cross
    "\U0001f6d0",  # place of worship
    "\u262d",  # hammer and sickle
)
_TERM_ALTERNATIVES = "|".join(re.escape(t) for terms in SPECIAL_CATEGORY_TERMS.values() for t in terms)
_TERMS = re.compile(rf"(?<![\w])(?:{_TERM_ALTERNATIVES})s?(?![\w])", re.IGNORECASE)
# Keyword-checked fields. Names are checked for symbols only: "Christian" is a first name.
KEYWORD_FIELDS = ("bio", "title", "company", "location")
SYMBOL_FIELDS = ("display_name", *KEYWORD_FIELDS)


def mentions_special_category(text: str, *, keywords: bool = True) -> bool:
    """Whether ``text`` contains a special-category term (or symbol)."""
    if not text:
        return False
    normalized = unicodedata.normalize("NFKC", text).replace("\ufe0f", "")
    if any(symbol in normalized for symbol in SPECIAL_CATEGORY_SYMBOLS):
        return True
    return keywords and bool(_TERMS.search(normalized.replace("#", " ")))


def allowed_fields(names: Iterable[str] | None = None) -> frozenset[str]:
    """The storable fields allowed by ``ENRICHMENT_ALLOWED_FIELDS`` (or ``names``); rejects unknown names."""
    chosen = frozenset(settings.ENRICHMENT_ALLOWED_FIELDS if names is None else names)
    unknown = chosen - set(STORABLE_FIELDS)
    if unknown:
        raise ImproperlyConfigured(
            f"ENRICHMENT_ALLOWED_FIELDS has unknown fields {sorted(unknown)}; choose from {list(STORABLE_FIELDS)}"
        )
    return chosen


def restrain(finding: Finding, *, fields: Iterable[str] | None = None) -> Finding:
    """``finding`` with only what may be stored: allowed fields, no special-category text.

    An opt-out finding comes back empty whatever it held.
    """
    if finding.opt_out:
        return Finding.opted_out(network=finding.network, provider=finding.provider)
    allowed = allowed_fields(fields)
    dropped = {name for name in STORABLE_FIELDS if name not in allowed}
    dropped.update(
        name
        for name in SYMBOL_FIELDS
        if mentions_special_category(getattr(finding, name), keywords=name in KEYWORD_FIELDS)
    )
    if not dropped:
        return finding
    kept = replace(finding)
    for name in dropped:
        setattr(kept, name, [] if isinstance(getattr(kept, name), list) else "")
    return kept
