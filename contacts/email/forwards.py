"""Forwards into the dropbox: the original message a teammate forwarded, not the forward.

A teammate who forwards a customer's mail to the team dropbox means "log this mail". The
forward itself is from the teammate to the dropbox and matches nobody; what matters is the
original inside it, with its own sender, recipients, date and body. Mail clients carry it
in one of two ways:

- as an attachment (``message/rfc822``: "forward as attachment" in Gmail and Outlook): the
  original whole, with its Message-ID, so it dedupes with the same mail from IMAP or a BCC;
- inline, below a marker and a block of quoted headers: Gmail's ``---------- Forwarded
  message ---------`` (Thunderbird's ``-------- Forwarded Message --------``), Apple Mail's
  ``Begin forwarded message:``, Outlook's ``-----Original Message-----`` or a line of
  underscores. Outlook writes those two into replies as well, so they count only under a
  forward's subject (``Fw:``, ``Fwd:``...). Markers, labels and dates in other languages
  ("Weitergeleitete Nachricht", "De :", "lundi 18 mars 2024") come from the tables of
  ``forward_labels.py``. The quoted block has no Message-ID: the original
  gets a key derived from its sender, minute, subject and body, so the same mail forwarded
  by three teammates from three different clients is one timeline entry.

Only a forward *sent by the team* is unwrapped (``Forwarders``: the team's users and its own
domains): the same markers in mail from anyone else are just text, never a claim about who
wrote what. A forward of a forward is unwrapped as long as the forwarder is the team's, so
the innermost original from outside the team is what gets logged.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

from contacts.email.forward_labels import CC, DATE, FROM, LANGUAGES, MONTHS, SUBJECT, TO, ClientLanguage
from contacts.email.parse import (
    Address,
    BrokenMessage,
    ParsedEmail,
    header_addresses,
    parse_message,
)

# Deeper nesting than this is not a forward chain a person made: stop unwrapping there.
MAX_DEPTH = 5
_SCAN_CHARS = 50_000  # where the marker may be: the top of the body, not a 10 MB paste


def _alternatives(labels: Iterable[str]) -> str:
    # Longest first: a label that begins another ("Da", "Data") is tried after it.
    return "|".join(re.escape(label).replace(r"\ ", r"[ \t]+") for label in sorted(set(labels), key=len, reverse=True))


_SPACE = r"[ \t\xa0\u202f]"  # French clients put a (non-breaking) space before a colon
_FORWARDED = _alternatives(label for lang in LANGUAGES for label in lang.forwarded)
_FORWARDED_INTRO = _alternatives(label for lang in LANGUAGES for label in lang.forwarded_intro)
_ORIGINAL = _alternatives(label for lang in LANGUAGES for label in lang.original)
_MARKER = re.compile(
    r"^[ \t>]*(?:"
    rf"(?P<forward>-{{2,}}[ \t]*(?:{_FORWARDED})[ \t]*-{{2,}}|(?:{_FORWARDED_INTRO}){_SPACE}*:)"
    rf"|(?P<ambiguous>-{{2,}}[ \t]*(?:{_ORIGINAL})[ \t]*-{{2,}}|_{{20,}})"
    r")[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARD_SUBJECT = re.compile(
    rf"^\W*(?:{_alternatives(prefix for lang in LANGUAGES for prefix in lang.subject_prefixes)})\s*:", re.IGNORECASE
)
_HEADER_FIELDS = {label: name for lang in LANGUAGES for label, name in lang.headers.items()}
_HEADER_LINE = re.compile(
    rf"^\**(?P<label>{_alternatives(_HEADER_FIELDS)})\**{_SPACE}*:\**{_SPACE}*(?P<value>.*)$", re.IGNORECASE
)
_QUOTE_PREFIX = re.compile(r"^[ \t]*(?:>[ \t]?)*")
_NAME_ADDR = re.compile(r'^\s*"?(?P<name>[^<>"]*?)"?\s*<(?P<email>[^<>\s]+)>\s*$')
_MAILTO = re.compile(r"\[mailto:([^\]\s]+)\]", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")

# The date lines mail clients write, once the weekday, the words around the time ("at", "um",
# "a las"...), commas and the zone are gone and the month is in English: "Mar 18 2024 9:02 AM"
# (Gmail), "18 Mar 2024 09:02:41" (Apple Mail, Thunderbird), "18.03.2024 09:02" (German).
_DATE_FORMATS = tuple(
    f"{day} {clock}"
    for day in ("%b %d %Y", "%d %b %Y", "%Y-%m-%d", "%d.%m.%Y")
    for clock in ("%I:%M %p", "%I:%M:%S %p", "%H:%M", "%H:%M:%S")
)
_COMMENT = re.compile(r"\s*\([^()]*\)\s*$")  # "-0500 (EST)"
_ZONE = re.compile(
    r"\s*\(?(?:(?:GMT|UTC)(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?"
    r"|(?P<numeric>[+-]\d{4})|(?P<name>[A-Z]{2,5}))\)?$"
)
_ZONE_NAMES = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120,
    "EET": 120, "EEST": 180, "MSK": 180, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
    "MST": -420, "MDT": -360, "PST": -480, "PDT": -420, "JST": 540, "AEST": 600, "AEDT": 660,
    "MEZ": 60, "MESZ": 120,
}  # fmt: skip


@dataclass(frozen=True)
class Forwarders:
    """Who may forward mail into a team's dropbox: its users' addresses and its own domains."""

    addresses: frozenset[str]
    domains: frozenset[str]

    def trust(self, address: Address | None) -> bool:
        if address is None:
            return False
        return address.email in self.addresses or address.email.rpartition("@")[2] in self.domains


def originals(message: ParsedEmail, forwarders: Forwarders, *, depth: int = 0) -> list[ParsedEmail]:
    """The original messages ``message`` forwards, innermost; [] when it is not the team's forward."""
    if depth >= MAX_DEPTH or not forwarders.trust(message.sender):
        return []
    inline = _inline_original(message)
    found = [inline] if inline is not None else [*_attached(message)]
    return [inner for original in found for inner in originals(original, forwarders, depth=depth + 1) or [original]]


def _attached(message: ParsedEmail) -> list[ParsedEmail]:
    parsed = []
    for raw in message.forwarded:
        try:
            parsed.append(parse_message(raw, keep_forwarded=True))
        except BrokenMessage:
            continue  # an unreadable attachment is no original: the forward is logged as it is
    return parsed


def _inline_original(message: ParsedEmail) -> ParsedEmail | None:
    """The message quoted below the first forward marker of the body, if its headers name a sender."""
    text = message.text.replace("\r\n", "\n")
    for marker in _MARKER.finditer(text, 0, _SCAN_CHARS):
        if marker["ambiguous"] and not _FORWARD_SUBJECT.match(message.subject):
            continue  # Outlook quotes the mail a reply answers the same way
        headers, body = _header_block(text[marker.end() :])
        sender = _sender(headers.get(FROM, ""))
        if sender is not None:
            return _quoted_message(message, sender, headers, body)
    return None


def _header_block(text: str) -> tuple[dict[str, str], str]:
    """The quoted headers below a marker (up to the first blank line) and the body after them."""
    lines = text.split("\n")
    index = 0
    while index < len(lines) and not _unquote(lines[index]):
        index += 1
    headers: dict[str, str] = {}
    last = ""
    while index < len(lines):
        line = _unquote(lines[index])
        if not line:
            break
        match = _HEADER_LINE.match(line)
        if match:
            last = _HEADER_FIELDS[_WHITESPACE.sub(" ", match["label"].lower())]
            headers.setdefault(last, match["value"].strip())
        elif last:  # a long To or Cc wrapped onto the next line
            headers[last] = f"{headers[last]} {line}"
        else:
            break
        index += 1
    body = "\n".join(_QUOTE_PREFIX.sub("", line, count=1) for line in lines[index:])
    return headers, body.strip("\n")


def _unquote(line: str) -> str:
    return _QUOTE_PREFIX.sub("", line, count=1).strip()


def _sender(value: str) -> Address | None:
    """The quoted From, keeping an unquoted "Surname, Given" whole as the name."""
    value = _MAILTO.sub(r"<\1>", value)
    match = _NAME_ADDR.match(value)
    listed = header_addresses("from", f"<{match['email']}>" if match else value)
    if not listed:
        return None
    return Address(listed[0].email, match["name"].strip()[:200]) if match else listed[0]


def _address_list(name: str, value: str) -> list[Address]:
    # Outlook separates with ";" and writes "Surname, Given" unquoted; old Outlook "Name [mailto:a@b]".
    value = _MAILTO.sub(r"<\1>", value).replace(";", ",")
    return header_addresses(name, value)


def _quoted_message(wrapper: ParsedEmail, sender: Address, headers: dict[str, str], body: str) -> ParsedEmail:
    subject = headers.get(SUBJECT, "")[:500]
    date = quoted_date(headers.get(DATE, ""), wrapper.date)
    message_id = _derived_id(sender, date, subject, body)
    return replace(
        wrapper,
        message_id=message_id,
        thread_key=message_id,
        subject=subject,
        date=date or wrapper.date,  # no readable date: it was written before it was forwarded
        sender=sender,
        to=_address_list("to", headers.get(TO, "")),
        cc=_address_list("cc", headers.get(CC, "")),
        in_reply_to="",
        references=[],
        text=body,
        html="",  # the forward's HTML is the forwarder's page, not the original's
        forwarded=[],
    )


def _derived_id(sender: Address, date: datetime | None, subject: str, body: str) -> str:
    """A stable id for an inline original: the same mail forwarded from any client gets the same one.

    Clients print the date to the minute (Gmail, Outlook) or second (Apple Mail) and rewrap
    whitespace, so the key takes the minute and the body with whitespace collapsed.
    """
    minute = date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if date else ""
    text = _WHITESPACE.sub(" ", body).strip()[:2000]
    digest = hashlib.sha256("\x1f".join([sender.email, minute, subject.strip(), text]).encode()).hexdigest()
    return f"sha256-{digest[:40]}@forwarded"


def quoted_date(value: str, context: datetime | None) -> datetime | None:
    """A date as a mail client prints it in a forward; a date without a zone is in ``context``'s.

    Gmail and Outlook print the original's time in the forwarder's zone without naming it:
    the forward's own Date carries that zone.
    """
    value = _COMMENT.sub("", value.replace("\u202f", " ").replace("\xa0", " ")).strip()
    if not value:
        return None
    zone: timezone | None = None
    match = _ZONE.search(value)
    if match:
        zone = _zone(match)
        if zone is not None:
            value = value[: match.start()]
    default = context.tzinfo if context is not None and context.tzinfo is not None else UTC
    tokens = value.replace(",", " ").split()
    tried = set()
    for language in LANGUAGES:
        text = _in_english(tokens, language)
        if text in tried:
            continue
        tried.add(text)
        for pattern in _DATE_FORMATS:
            try:
                naive = datetime.strptime(text, pattern)  # noqa: DTZ007 - the zone is attached below
            except ValueError:
                continue
            return naive.replace(tzinfo=zone or default)
    return None


def _in_english(tokens: list[str], language: ClientLanguage) -> str:
    """A date's words as ``language`` reads them, in the form of ``_DATE_FORMATS``.

    A weekday is only ever the first word: "mar" first is mardi (French), later marzo (Spanish).
    """
    words = [token.rstrip(".") for token in tokens]  # "Mo., 18. März" (German), "seg., 18 de mar. de"
    if words and words[0].lower() in language.weekdays:
        words = words[1:]
    english = []
    for word in words:
        lower = word.lower()
        if lower in language.date_fillers:
            continue
        month = next((number for number, names in enumerate(language.months) if lower in names), None)
        english.append(word if month is None else MONTHS[month])
    return " ".join(english)


def _zone(match: re.Match[str]) -> timezone | None:
    if match["hours"]:
        minutes = int(match["hours"]) * 60 + int(match["minutes"] or 0)
        return timezone(timedelta(minutes=-minutes if match["sign"] == "-" else minutes))
    if match["numeric"]:
        sign = -1 if match["numeric"][0] == "-" else 1
        return timezone(sign * timedelta(hours=int(match["numeric"][1:3]), minutes=int(match["numeric"][3:])))
    offset = _ZONE_NAMES.get(match["name"] or "")
    return None if offset is None else timezone(timedelta(minutes=offset))
