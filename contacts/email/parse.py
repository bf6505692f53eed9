"""Reading email: the one parser behind uploads, the dropbox webhook and IMAP sync.

Messages are parsed with the standard library's ``email`` package: its feed parser splits
the MIME structure (RFC 2231 parameters, quoted-printable and base64 bodies) and the
modern header parser (``email.headerregistry``, as ``email.policy.default`` uses it) reads
the headers we keep: From/Sender/To/Cc addresses, the subject and RFC 2047 file names.
Three things keep it fast and safe on hostile input:

- the structure is parsed with (a variant of) the ``compat32`` policy, whose header
  values are plain strings: the default policy would build a header object for every Content-Type,
  Content-Disposition and Content-Transfer-Encoding read while walking the parts (~50 us
  each), which is most of its cost;
- the header objects we do build are cached by (name, raw value): in a mailbox the same
  addresses repeat on most messages;
- limits: a message over ``max_bytes`` or with a header section over ``MAX_HEADER_BYTES``
  is reported as broken rather than parsed, and bodies are capped (``BODY_MAX_CHARS``).

Anything that cannot be read raises ``BrokenMessage`` with a reason a person can act on.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.headerregistry import AddressHeader, BaseHeader, HeaderRegistry
from email.message import Message
from email.policy import Compat32
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, BinaryIO, cast

from django.core.exceptions import ValidationError

from contacts.normalize import normalize_email

MAX_HEADER_BYTES = 256 * 1024
# What the timeline keeps of one message: enough for any real email, not a 10 MB paste.
BODY_MAX_CHARS = 100_000
HTML_MAX_CHARS = 400_000
MAX_ATTACHMENTS = 50
TRUNCATED_NOTE = "\n\n[… message cut: it was longer than {limit:,} characters]"

# Defects that mean the message was cut off: logging half of it would mislead.
_FATAL_DEFECTS = {
    "CloseBoundaryNotFoundDefect": "it is cut off (a MIME part never ends)",
    "StartBoundaryNotFoundDefect": "it is cut off (its MIME parts are missing)",
}
_MSG_ID = re.compile(r"<([^<>\s]{1,400})>")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_RAW_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?<([^<>\s]{1,400})>", re.IGNORECASE | re.MULTILINE)
# Raw 8-bit header bytes, as the parser hands them over (surrogate-escaped).
_SURROGATE = re.compile("[\udc80-\udcff]")
# Compiled once: every multipart message's unique boundary pattern passes through ``re``'s
# small cache (the feed parser compiles one per boundary) and would evict these.
_FOLDING = re.compile(r"\r?\n[ \t]")
_BLANK_LINES = re.compile(r"\n{3,}")


class BrokenMessage(ValueError):
    """A message that cannot be read; ``str()`` says why, for the person who sent it in."""


class _RawPolicy(Compat32):
    """``compat32`` handing header values over as read: raw 8-bit bytes stay surrogate-escaped
    (``clean_text`` repairs them), rather than becoming U+FFFD in an "unknown-8bit" ``Header``."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


_STRUCTURE_POLICY = _RawPolicy()
_REGISTRY = HeaderRegistry()


@functools.lru_cache(maxsize=8192)
def _header(name: str, value: str) -> BaseHeader:
    """The modern parser's header object (immutable ``str``), cached by (name, raw value)."""
    return _REGISTRY(name, value)


@dataclass(frozen=True)
class Address:
    email: str  # normalized (contacts.normalize.normalize_email)
    name: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email}


@dataclass
class ParsedEmail:
    message_id: str
    thread_key: str
    subject: str
    date: datetime | None
    sender: Address | None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # The raw bytes of attached messages (message/rfc822), only with ``keep_forwarded``.
    forwarded: list[bytes] = field(default_factory=list, repr=False)

    @property
    def participants(self) -> list[Address]:
        return [*([self.sender] if self.sender else []), *self.to, *self.cc]


# --- Text helpers ---------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Text safe to store: undecodable header bytes become U+FFFD, NULs (PostgreSQL) are dropped."""
    if _SURROGATE.search(value):
        raw = value.encode("utf-8", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("windows-1252", "replace")
    return value.replace("\x00", "")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; mislabeled or unknown charsets fall back to UTF-8, then Windows-1252."""
    for candidate in (charset or "utf-8", "utf-8"):
        try:
            return data.decode(candidate)
        except LookupError:
            continue  # an unknown charset name
        except UnicodeDecodeError:
            break
    return data.decode("windows-1252", "replace")


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + TRUNCATED_NOTE.format(limit=limit)


class _TextExtractor(HTMLParser):
    """HTML to plain text: block elements become line breaks; scripts, styles and the head are dropped."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})
    SKIP = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body (never markup: the result is shown escaped)."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# --- Headers ----------------------------------------------------------------------------------


def _raw_headers(message: Message) -> dict[str, str]:
    """First value of each header, lower-cased name, folding removed, bytes made text."""
    headers: dict[str, str] = {}
    for name, value in message.raw_items():
        key = name.lower()
        if key not in headers:
            headers[key] = clean_text(_FOLDING.sub(" ", str(value))).strip()
    return headers


@functools.lru_cache(maxsize=8192)
def _normalized(address: str) -> str | None:
    try:
        return normalize_email(address)
    except ValidationError:
        return None


def header_addresses(name: str, raw: str) -> list[Address]:
    """The readable addresses of an address header's raw value, normalized (unreadable ones left out)."""
    if not raw:
        return []
    try:
        pairs = [(item.display_name, item.addr_spec) for item in cast(AddressHeader, _header(name, raw)).addresses]
    except Exception:
        pairs = getaddresses([raw])
    result = []
    for display, spec in pairs:
        normalized = _normalized(spec)
        if normalized is not None:
            result.append(Address(normalized, clean_text(display).strip()[:200]))
    return result


def _unstructured(name: str, raw: str) -> str:
    try:
        return clean_text(str(_header(name, raw)))
    except Exception:
        return raw


def _msg_ids(raw: str) -> list[str]:
    return _MSG_ID.findall(raw)


def header_date(raw: str) -> datetime | None:
    """An RFC 5322 date, None when unreadable; without a zone it is read as UTC."""
    try:
        value = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" means "time zone unknown": read as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- Bodies and attachments ------------------------------------------------------------------


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    # Decoded here from bytes: no surrogates to repair, only NULs to drop.
    return decode_bytes(payload, part.get_content_charset()).replace("\x00", "")


def _attachment(part: Message) -> dict[str, Any]:
    content_type = part.get_content_type()
    if part.is_multipart():  # a forwarded message (message/rfc822)
        size = sum(len(sub.as_bytes()) for sub in part.get_payload() if isinstance(sub, Message))
    else:
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
    name = part.get_filename() or ""
    if "=?" in name:  # RFC 2047 inside the quoted parameter (not standard, but what Outlook sends)
        name = _unstructured("x-filename", name)
    name = clean_text(name).strip()[:255]
    return {"name": name, "type": content_type[:100], "size": size}


def _walk_leaves(part: Message) -> Iterator[Message]:
    """Leaf parts in order; a forwarded message counts as one leaf (its parts are not ours)."""
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from _walk_leaves(sub)
    else:
        yield part


def _bodies(message: Message) -> tuple[str, str, list[dict[str, Any]]]:
    """Plain text, HTML and attachment metadata, in one pass over the leaf parts.

    The first inline text/plain and text/html parts are the bodies; any part with a file
    name, an attachment disposition or a non-text type is an attachment (metadata only). A
    bare non-text message (a PDF sent as the whole body) is an attachment, not a body.
    """
    text_part: Message | None = None
    html_part: Message | None = None
    attachments: list[dict[str, Any]] = []
    for part in _walk_leaves(message):
        content_type = part.get_content_type()
        inline = part.get_content_disposition() != "attachment" and not part.get_filename()
        if inline and content_type == "text/plain" and text_part is None:
            text_part = part
        elif inline and content_type == "text/html" and html_part is None:
            html_part = part
        elif not inline or part.get_content_maintype() != "text":
            attachments.append(_attachment(part))
    text = _part_text(text_part) if text_part is not None else ""
    html = _part_text(html_part) if html_part is not None else ""
    if not text and html:
        text = html_to_text(html)
    return _cap(text, BODY_MAX_CHARS), _cap(html, HTML_MAX_CHARS), attachments[:MAX_ATTACHMENTS]


# --- Messages ---------------------------------------------------------------------------------


def _fallback_id(sender: Address | None, date: datetime | None, subject: str, text: str) -> str:
    # No Message-ID: derive a stable one, so the same mail uploaded twice is still one entry.
    digest = hashlib.sha256(
        "\x1f".join([sender.email if sender else "", date.isoformat() if date else "", subject, text[:2000]]).encode()
    ).hexdigest()
    return f"sha256-{digest[:40]}@no-message-id"


def parse_message(raw: bytes, *, max_bytes: int | None = None, keep_forwarded: bool = False) -> ParsedEmail:
    """Parse one RFC 822 message; raise ``BrokenMessage`` when it cannot be read.

    ``keep_forwarded`` keeps the raw bytes of attached messages (``ParsedEmail.forwarded``),
    for the dropbox to unwrap a forward (contacts/email/forwards.py).
    """
    if max_bytes is not None and len(raw) > max_bytes:
        raise BrokenMessage(f"larger than the {max_bytes // 1_048_576} MB limit")
    header_end = _HEADER_END.search(raw, 0, MAX_HEADER_BYTES + 4)
    if header_end is None and len(raw) > MAX_HEADER_BYTES:
        raise BrokenMessage(f"its headers are larger than {MAX_HEADER_BYTES // 1024} KB")
    if not raw.strip():
        raise BrokenMessage("empty")
    try:
        message = message_from_bytes(raw, policy=_STRUCTURE_POLICY)
        headers = _raw_headers(message)
        senders = header_addresses("from", headers.get("from", "")) or header_addresses(
            "sender", headers.get("sender", "")
        )
        if not senders:
            raise BrokenMessage("no readable sender (From) address")
        for defect in _defects(message):
            reason = _FATAL_DEFECTS.get(type(defect).__name__)
            if reason:
                raise BrokenMessage(reason)
        text, html, attachments = _bodies(message)
        forwarded = _forwarded(message) if keep_forwarded else []
    except BrokenMessage:
        raise
    except Exception as exc:
        raise BrokenMessage(f"unreadable ({type(exc).__name__})") from exc
    sender = senders[0]
    subject = _unstructured("subject", headers.get("subject", ""))[:500]
    date = header_date(headers.get("date", ""))
    own_ids = _msg_ids(headers.get("message-id", ""))
    references = _msg_ids(headers.get("references", ""))
    in_reply_to = next(iter(_msg_ids(headers.get("in-reply-to", ""))), "")
    message_id = own_ids[0] if own_ids else _fallback_id(sender, date, subject, text)
    return ParsedEmail(
        message_id=message_id,
        # Without References the parent's id is only a guess: ingest puts the reply in its parent's thread.
        thread_key=references[0] if references else (in_reply_to or message_id),
        subject=subject,
        date=date,
        sender=sender,
        to=header_addresses("to", headers.get("to", "")),
        cc=header_addresses("cc", headers.get("cc", "")),
        in_reply_to=in_reply_to,
        references=references,
        text=text,
        html=html,
        attachments=attachments,
        forwarded=forwarded,
    )


def _forwarded(message: Message) -> list[bytes]:
    """The messages attached whole (``message/rfc822``), as bytes, at most ``MAX_ATTACHMENTS``."""
    found: list[bytes] = []
    for part in _walk_leaves(message):
        if part.get_content_type() == "message/rfc822" and part.is_multipart():
            inner = part.get_payload(0)
            if isinstance(inner, Message):
                found.append(inner.as_bytes())
    return found[:MAX_ATTACHMENTS]


def raw_message_id(raw: bytes) -> str:
    """The Message-ID of a message that could not be parsed, if its header section shows one; else ""."""
    end = _HEADER_END.search(raw, 0, MAX_HEADER_BYTES)
    found = _RAW_MESSAGE_ID.search(raw, 0, end.start() if end else MAX_HEADER_BYTES)
    return found.group(1).decode("ascii", "replace") if found else ""


def _defects(message: Message) -> Iterator[Any]:
    for part in message.walk():
        yield from part.defects


# --- Files: one .eml or an mbox ------------------------------------------------------------------


def _is_separator(line: bytes, previous_blank: bool) -> bool:
    return previous_blank and line.startswith(b"From ")


def split_mbox(lines: Iterable[bytes], *, max_bytes: int) -> Iterator[bytes]:
    """The messages of an mbox, one by one (constant memory beyond one message).

    A message starts at a ``From `` line at the top of the file or after a blank line;
    ``>From `` quoting (mboxrd) is undone. A message over ``max_bytes`` is yielded cut
    just past the limit, so the parser reports it instead of holding all of it.
    """
    current: list[bytes] = []
    size = 0
    previous_blank = True
    started = False
    for line in lines:
        if _is_separator(line, previous_blank):
            if started:
                yield _finish(current)
            current, size, started = [], 0, True
            previous_blank = False
            continue
        previous_blank = line in (b"\n", b"\r\n")
        if not started:
            continue  # bytes before the first From_ line belong to no message
        if size <= max_bytes:
            if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                line = line[1:]
            current.append(line)
            size += len(line)
    if started:
        yield _finish(current)


def _finish(lines: list[bytes]) -> bytes:
    # The blank line before the next From_ line is the separator, not the message's.
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def read_messages(stream: BinaryIO, *, max_bytes: int) -> Iterator[bytes]:
    """The raw messages of an uploaded file: an mbox when it starts with a ``From `` line, else one message."""
    head = stream.read(5)
    stream.seek(0)
    if head == b"From ":
        yield from split_mbox(stream, max_bytes=max_bytes)
    else:
        yield stream.read(max_bytes + 1)
