"""A tiny lexicon-based sentiment label for public posts (positive / negative / neutral).

Deliberately simple and honest about it: it counts words from two short English lists,
flips a word after "not"/"no"/"never", and labels by the sign of the sum. It knows no
sarcasm, no other language and no context; it is a hint for staff, never a decision. It is
only ever run where the gate allows purpose ``sentiment_analysis`` (enrichment/listening.py).
"""

from __future__ import annotations

import re

POSITIVE = frozenset(
    [
        "love",
        "loved",
        "loving",
        "great",
        "excellent",
        "amazing",
        "awesome",
        "happy",
        "glad",
        "thanks",
        "thank",
        "helpful",
        "impressed",
        "recommend",
        "recommended",
        "fantastic",
        "wonderful",
        "delighted",
        "easy",
        "fast",
        "reliable",
        "brilliant",
        "enjoy",
        "enjoyed",
        "pleased",
        "smooth",
        "solid",
        "superb",
    ]
)
NEGATIVE = frozenset(
    [
        "hate",
        "hated",
        "awful",
        "terrible",
        "bad",
        "worse",
        "worst",
        "frustrated",
        "frustrating",
        "annoyed",
        "annoying",
        "angry",
        "broken",
        "slow",
        "bug",
        "buggy",
        "disappointed",
        "disappointing",
        "useless",
        "problem",
        "problems",
        "issue",
        "issues",
        "fail",
        "failed",
        "failing",
        "cancel",
        "cancelled",
        "unhappy",
        "confusing",
        "expensive",
        "outage",
        "down",
    ]
)
NEGATORS = frozenset({"not", "no", "never", "isn't", "wasn't", "don't", "doesn't", "didn't", "can't", "won't"})
_WORDS = re.compile(r"[a-z']+")


def sentiment_label(text: str) -> str:
    """``"positive"``, ``"negative"`` or ``"neutral"`` for ``text``."""
    score = 0
    previous = ""
    for word in _WORDS.findall(text.lower()):
        value = (word in POSITIVE) - (word in NEGATIVE)
        score += -value if previous in NEGATORS else value
        previous = word
    if score > 0:
        return "positive"
    if score < 0:
        return "negative"
    return "neutral"
