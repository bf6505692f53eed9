"""Recording parsed email on the timeline: matching, direction, dedupe, threading.

One service, ``email_ingest``, for the three ways mail comes in (upload, the dropbox
webhook, IMAP sync). Each message is matched on its From/To/Cc addresses against the email
methods of the contacts in scope (never creating a contact), and recorded once per matched
contact through ``activity_record_many`` (the batch form of ``activity_record``) with the
Message-ID as external id, so the same mail forwarded by three teammates or synced twice is
one entry per person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts.email.forwards import Forwarders, originals
from contacts.email.parse import BrokenMessage, ParsedEmail, parse_message, raw_message_id
from contacts.models import Activity, Contact, ContactMethod, TeamSettings
from contacts.services.timeline import activity_record_many

# Messages are matched and recorded this many at a time: one address query, one dedupe
# query and one insert per chunk, one transaction per chunk.
CHUNK = 2000


class EmailAuditAction(models.TextChoices):
    """Audit actions of the email pipeline (registered in ContactsConfig.ready())."""

    LOGGED = "email.logged", "Emails logged"
    UPLOAD_CANCELLED = "email.upload_cancelled", "Email upload cancelled"


class Source:
    UPLOAD = "upload"
    DROPBOX = "dropbox"
    IMAP = "imap"


@dataclass(frozen=True)
class BrokenEntry:
    index: int  # 1-based position in the file or batch
    reason: str
    message_id: str = ""  # when its header section shows one


@dataclass
class IngestResult:
    """What happened to each message read: logged, already there, matched nobody, or broken."""

    messages: int = 0
    logged: int = 0  # added at least one timeline entry
    already_logged: int = 0  # matched, and every entry existed already (same Message-ID)
    unmatched: int = 0  # matched no contact: skipped, no contact created
    entries_created: int = 0
    forwards_unwrapped: int = 0  # teammates' forwards logged as the originals inside them
    broken: list[BrokenEntry] = field(default_factory=list)
    contact_ids: set[int] = field(default_factory=set)
    stopped: bool = False  # ``cancelled`` said so: the messages after the last batch were not read

    @property
    def broken_count(self) -> int:
        return len(self.broken)

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "logged": self.logged,
            "already_logged": self.already_logged,
            "unmatched": self.unmatched,
            "entries_created": self.entries_created,
            "forwards_unwrapped": self.forwards_unwrapped,
            "broken_count": self.broken_count,
            "broken": [
                {"index": entry.index, "reason": entry.reason, "message_id": entry.message_id} for entry in self.broken
            ],
        }


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


@dataclass
class _Matcher:
    contacts: QuerySet[Contact]
    own_addresses: frozenset[str]
    team_domains: dict[int, frozenset[str]] = field(default_factory=dict)

    def methods(self, addresses: set[str]) -> dict[str, list[Contact]]:
        """Contacts in scope by normalized address (one per team at most: one email per team)."""
        found: dict[str, list[Contact]] = {}
        rows = (
            ContactMethod.objects.filter(kind=ContactMethod.Kind.EMAIL, normalized__in=addresses)
            .filter(contact__in=self.contacts)
            .select_related("contact")
            .order_by()
        )
        for method in rows:
            found.setdefault(method.normalized, []).append(method.contact)
        missing = {contact.team_id for contacts in found.values() for contact in contacts} - self.team_domains.keys()
        if missing:
            for team_id in missing:
                self.team_domains[team_id] = frozenset()
            settings_rows = TeamSettings.objects.filter(team_id__in=missing).values_list("team_id", "own_domains")
            for team_id, domains in settings_rows:
                self.team_domains[team_id] = frozenset(str(domain).lower() for domain in domains or [])
        return found

    def direction(self, message: ParsedEmail, contact: Contact, contact_addresses: set[str]) -> str:
        """In when the person wrote it, out when we did (our address or domain), else none (they were copied)."""
        sender = message.sender.email if message.sender else ""
        if sender in contact_addresses:
            return Activity.Direction.INBOUND
        if sender in self.own_addresses or _domain(sender) in self.team_domains.get(contact.team_id, frozenset()):
            return Activity.Direction.OUTBOUND
        return Activity.Direction.NONE


def _payload(message: ParsedEmail) -> dict[str, Any]:
    return {
        "from": message.sender.as_dict() if message.sender else {},
        "to": [address.as_dict() for address in message.to],
        "cc": [address.as_dict() for address in message.cc],
        "in_reply_to": message.in_reply_to,
        # The Date as written: occurred_at may differ (capped at the time of logging).
        "date_header": message.date.isoformat() if message.date else "",
        "attachments": message.attachments,
    }


def _thread_keys(chunk: list[ParsedEmail], matched: list[dict[int, tuple[Contact, set[str]]]]) -> dict[str, str]:
    """Each message's thread key, by Message-ID: the root of its conversation.

    With References the root is its first id (the parser's key). A reply with only
    In-Reply-To joins its parent's thread: the parent in this chunk (followed up the
    chain), else the parent already logged on one of the reply's contacts (one query for
    the chunk, on the (contact, kind, external_id) index), else the parent id itself.
    """
    by_id = {message.message_id: message for message in chunk}
    orphans = [
        (message, contacts)
        for message, contacts in zip(chunk, matched, strict=True)
        if message.in_reply_to and not message.references and message.in_reply_to not in by_id
    ]
    outside = {message.in_reply_to for message, _ in orphans}
    contact_ids = {pk for _, contacts in orphans for pk in contacts}
    stored: dict[str, str] = {}
    if outside and contact_ids:
        stored = dict(
            Activity.objects.filter(contact_id__in=contact_ids, kind=Activity.Kind.EMAIL, external_id__in=outside)
            .exclude(thread_key="")
            .order_by()
            .values_list("external_id", "thread_key")
        )

    def resolve(message: ParsedEmail) -> str:
        seen: set[str] = set()
        while message.in_reply_to and not message.references and message.message_id not in seen:
            seen.add(message.message_id)  # a loop of In-Reply-To ids ends where it closes
            parent = by_id.get(message.in_reply_to)
            if parent is None:
                return stored.get(message.in_reply_to, message.in_reply_to)
            message = parent
        return message.thread_key

    return {message.message_id: resolve(message) for message in chunk}


def _parsed(
    raw_messages: Iterable[bytes], result: IngestResult, max_bytes: int | None, keep_forwarded: bool
) -> Iterator[ParsedEmail]:
    for raw in raw_messages:
        result.messages += 1
        try:
            yield parse_message(raw, max_bytes=max_bytes, keep_forwarded=keep_forwarded)
        except BrokenMessage as exc:
            result.broken.append(BrokenEntry(result.messages, str(exc), raw_message_id(raw)))


def _unwrap(
    chunk: list[ParsedEmail], found: list[list[ParsedEmail]], by_address: dict[str, list[Contact]], result: IngestResult
) -> list[ParsedEmail]:
    """The messages to log: each forward replaced by its originals, unless it was sent to a contact.

    A forward with a contact among its recipients (the dropbox in Bcc) is mail to that person,
    logged as it is; one to teammates or the dropbox only stands for the mail it carries.
    """
    logged: list[ParsedEmail] = []
    for message, inner in zip(chunk, found, strict=True):
        if inner and not any(address.email in by_address for address in [*message.to, *message.cc]):
            result.forwards_unwrapped += 1
            logged.extend(inner)
        else:
            logged.append(message)
    return logged


def _record_chunk(
    chunk: list[ParsedEmail],
    matcher: _Matcher,
    *,
    actor: Any,
    source: str,
    result: IngestResult,
    forwarders: Forwarders | None,
) -> None:
    found = [originals(message, forwarders) if forwarders else [] for message in chunk]
    by_address = matcher.methods(
        {
            address.email
            for message, inner in zip(chunk, found, strict=True)
            for each in (message, *inner)
            for address in each.participants
        }
    )
    if forwarders:
        chunk = _unwrap(chunk, found, by_address, result)
    matched: list[dict[int, tuple[Contact, set[str]]]] = []
    for message in chunk:
        contacts: dict[int, tuple[Contact, set[str]]] = {}
        for address in message.participants:
            for contact in by_address.get(address.email, ()):
                contacts.setdefault(contact.pk, (contact, set()))[1].add(address.email)
        matched.append(contacts)
    thread_keys = _thread_keys(chunk, matched)
    # Mail dated in the future would pin last contacted and silence nudges: it happened by now at the latest.
    now = timezone.now()
    rows: list[list[Activity]] = []
    for message, contacts in zip(chunk, matched, strict=True):
        if not contacts:
            result.unmatched += 1
            continue
        result.contact_ids.update(contacts)
        occurred_at = min(message.date, now) if message.date else now  # no readable Date: when it was logged
        rows.append(
            [
                Activity(
                    contact=contact,
                    kind=Activity.Kind.EMAIL,
                    actor=actor,
                    occurred_at=occurred_at,
                    direction=matcher.direction(message, contact, addresses),
                    subject=message.subject,
                    body=message.text,
                    body_html=message.html,
                    source=source,
                    external_id=message.message_id,
                    thread_key=thread_keys[message.message_id],
                    payload=_payload(message),
                )
                for contact, addresses in contacts.values()
            ]
        )
    created = {id(activity) for activity in activity_record_many([a for entries in rows for a in entries])}
    for entries in rows:
        new = sum(1 for activity in entries if id(activity) in created)
        result.entries_created += new
        if new:
            result.logged += 1
        else:
            result.already_logged += 1


def email_ingest(
    *,
    actor: Any,
    source: str,
    raw_messages: Iterable[bytes],
    contacts: QuerySet[Contact],
    own_addresses: Iterable[str] = (),
    max_bytes: int | None = None,
    forwarders: Forwarders | None = None,
    on_chunk: Callable[[IngestResult], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> IngestResult:
    """Record ``raw_messages`` (RFC 822 bytes) on the timelines of the matching ``contacts``.

    ``contacts`` is the scope: the acting user's visible contacts (or one contact, or an
    organization's people) for uploads, the dropbox team's contacts, the mailbox owner's
    visible contacts. ``own_addresses`` are the acting user's addresses: mail from them, or
    from a domain in the contact's team settings (``TeamSettings.own_domains``), is
    outbound. Messages matching nobody are counted and skipped; unreadable ones are
    reported with their 1-based index. Re-running with the same messages adds nothing.
    With ``forwarders`` (the dropbox), a forward they sent is logged as the original(s) it
    carries; the counts after ``messages`` are then about those originals.
    ``on_chunk`` is called with the running result inside each batch's transaction, once
    its messages are recorded (a background upload saves its progress there). ``cancelled``
    is asked before each batch: True stops there (``result.stopped``), the batches before
    committed.
    """
    result = IngestResult()
    matcher = _Matcher(contacts=contacts, own_addresses=frozenset(address.lower() for address in own_addresses))
    parsed = _parsed(raw_messages, result, max_bytes, keep_forwarded=forwarders is not None)
    while True:
        if cancelled is not None and cancelled():
            result.stopped = True
            break
        chunk = list(islice(parsed, CHUNK))
        if not chunk:
            break
        with transaction.atomic():
            _record_chunk(chunk, matcher, actor=actor, source=source, result=result, forwarders=forwarders)
            if on_chunk is not None:
                on_chunk(result)
    return result
