"""Mailbox sync over IMAP: new messages of INBOX and Sent since the last UID, into the timeline.

Each folder remembers its UIDVALIDITY and the last UID fetched. Only UIDs above that are
fetched (``BODY.PEEK[]``: nothing is marked read), in batches, and the position is saved
after each batch, so an interrupted sync resumes where it stopped; Message-ID dedupe makes
a repeated batch harmless. When the server changes UIDVALIDITY the folder is read again.
Failures are stored on the connection for its settings page and retried on the next tick.

The server is one a user typed in, so it gets the same address policy as enrichment's HTTP
client (``socialcrm/netpolicy.py``): checked when the settings are saved and again at each
connect, which goes to the very address that was checked (TLS still verifies the host name).
Only TLS: IMAPS, or STARTTLS on a plain connection (``use_ssl`` off); never plain IMAP.
"""

from __future__ import annotations

import imaplib
import ipaddress
import logging
import re
import socket
import ssl
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from contacts.email.crypto import DecryptionError, decrypt
from contacts.email.ingest import IngestResult, Source, email_ingest
from contacts.models import MailboxConnection
from contacts.selectors import visible_contacts
from socialcrm import netpolicy

logger = logging.getLogger(__name__)

FETCH_BATCH = 100
# A sync holds its mailbox this long at most; a crashed worker's claim expires with it.
LEASE = timedelta(minutes=15)
SENT_NAMES = ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "INBOX.Sent", "[Gmail]/Sent Mail")
_LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?P<delimiter>"[^"]*"|NIL) (?P<name>.+)')
_FETCH_UID = re.compile(rb"UID (\d+)")

UNREACHABLE = "Couldn't reach the mail server; will retry."
REFUSED = "The mail server refused the sign-in: check the user name and app password."
UNREADABLE_PASSWORD = "The stored password can no longer be read: connect the mailbox again."  # noqa: S105 - a message
NO_STARTTLS = "The mail server does not offer STARTTLS: choose SSL/TLS (usually port 993)."
UNTRUSTED = "The mail server's certificate could not be verified for this host name."
# Standard IMAP ports: IMAPS and IMAP with STARTTLS. Others only for allowed hosts.
IMAP_PORTS = (993, 143)


class SyncError(Exception):
    """A sync failure with a message for the mailbox owner."""


@dataclass
class SyncResult:
    inbox: IngestResult
    sent: IngestResult | None


def server_addresses(host: str, port: int) -> list[str]:
    """The addresses of mail server ``host`` the sync may connect to; raise ``DestinationRefused``.

    Public addresses only, on an IMAP port, unless ``EMAIL_IMAP_ALLOWED_HOSTS`` names the host
    (then anything) or the addresses' networks (those addresses, on any port).
    """
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in settings.EMAIL_IMAP_ALLOWED_HOSTS:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.lower())

    def allowed(address: netpolicy.IPAddress) -> bool:
        return host.lower() in names or any(address in network for network in networks)

    addresses = netpolicy.public_addresses(host, port, exempt=allowed)
    exempt = all(allowed(ipaddress.ip_address(text.split("%", 1)[0])) for text in addresses)
    if port not in IMAP_PORTS and not exempt:
        raise netpolicy.DestinationRefused(f"port {port} is not an IMAP port (993 or 143)")
    return addresses


def _open_socket(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    last_error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            last_error = exc
    assert last_error is not None  # noqa: S101 - server_addresses() never returns an empty list
    raise last_error


class _PinnedIMAP4(imaplib.IMAP4):
    """IMAP over a socket to addresses checked beforehand; ``host`` stays the name (for STARTTLS)."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float) -> None:
        self._addresses = addresses
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return _open_socket(self._addresses, self.port, timeout)


class _PinnedIMAP4SSL(imaplib.IMAP4_SSL):
    """IMAPS to addresses checked beforehand; the certificate is verified against ``host``."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float) -> None:
        self._addresses = addresses
        super().__init__(host, port, ssl_context=ssl.create_default_context(), timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = _open_socket(self._addresses, self.port, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def _connect(connection: MailboxConnection) -> imaplib.IMAP4:
    """A TLS connection to the mailbox's server, at an address the policy allows."""
    try:
        addresses = server_addresses(connection.host, connection.port)
    except netpolicy.DestinationRefused as exc:
        raise SyncError(f"The mail server is not allowed: {exc}.") from exc
    timeout = settings.EMAIL_IMAP_TIMEOUT
    if connection.use_ssl:
        return _PinnedIMAP4SSL(connection.host, connection.port, addresses=addresses, timeout=timeout)
    client = _PinnedIMAP4(connection.host, connection.port, addresses=addresses, timeout=timeout)
    try:
        client.starttls(ssl.create_default_context())
    except imaplib.IMAP4.error as exc:
        _logout(client)
        raise SyncError(NO_STARTTLS) from exc
    return client


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(name: bytes) -> str:
    text = name.decode("utf-8", "replace").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def find_sent_folder(client: imaplib.IMAP4) -> str:
    """The folder flagged ``\\Sent`` (RFC 6154), else one with a common name, else ''."""
    status, lines = client.list()
    if status != "OK":
        return ""
    folders: list[tuple[str, str]] = []
    for line in lines:
        match = _LIST_LINE.match(line) if isinstance(line, bytes) else None
        if match:
            folders.append((match["flags"].decode("ascii", "replace").lower(), _unquote(match["name"])))
    for flags, name in folders:
        if "\\sent" in flags.split():
            return name
    by_name = {name.lower(): name for _, name in folders}
    return next((by_name[candidate.lower()] for candidate in SENT_NAMES if candidate.lower() in by_name), "")


def _uids_after(client: imaplib.IMAP4, last_uid: int) -> list[int]:
    status, data = client.uid("SEARCH", None, f"UID {last_uid + 1}:*")  # type: ignore[arg-type]
    if status != "OK" or not data or not data[0]:
        return []
    # "n:*" always includes the highest UID, even when it is below n.
    return sorted(uid for uid in map(int, data[0].split()) if uid > last_uid)


def _fetch(client: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
    status, data = client.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    if status != "OK":
        raise SyncError(UNREACHABLE)
    messages = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            match = _FETCH_UID.search(item[0])
            if match:
                messages.append((int(match[1]), item[1]))
    return sorted(messages)


def _sync_folder(client: imaplib.IMAP4, connection: MailboxConnection, folder: str, which: str) -> IngestResult:
    status, _ = client.select(_quote(folder), readonly=True)
    if status != "OK":
        raise SyncError(f"The folder {folder!r} cannot be opened.")
    _, validity_data = client.response("UIDVALIDITY")
    validity = int(validity_data[0]) if validity_data and validity_data[0] else None
    last_uid = getattr(connection, f"last_uid_{which}")
    if validity != getattr(connection, f"uidvalidity_{which}"):
        last_uid = 0  # a new UIDVALIDITY: old UIDs mean nothing now
        setattr(connection, f"uidvalidity_{which}", validity)
    owner = connection.user
    own_addresses = {owner.email.lower(), *([connection.username.lower()] if "@" in connection.username else [])}
    total = IngestResult()
    uids = _uids_after(client, last_uid)
    for start in range(0, len(uids), FETCH_BATCH):
        batch = _fetch(client, uids[start : start + FETCH_BATCH])
        result = email_ingest(
            actor=owner,
            source=Source.IMAP,
            raw_messages=(raw for _, raw in batch),
            contacts=visible_contacts(owner),
            own_addresses=own_addresses,
            max_bytes=settings.EMAIL_MAX_MESSAGE_BYTES,
        )
        _add(total, result)
        if batch:
            setattr(connection, f"last_uid_{which}", batch[-1][0])
            connection.save(update_fields=[f"last_uid_{which}", f"uidvalidity_{which}", "updated_at"])
    setattr(connection, f"last_uid_{which}", max(last_uid, getattr(connection, f"last_uid_{which}")))
    return total


def _add(total: IngestResult, result: IngestResult) -> None:
    offset = total.messages
    total.messages += result.messages
    total.logged += result.logged
    total.already_logged += result.already_logged
    total.unmatched += result.unmatched
    total.entries_created += result.entries_created
    total.broken.extend(type(entry)(entry.index + offset, entry.reason) for entry in result.broken)
    total.contact_ids |= result.contact_ids


def _record_failure(connection: MailboxConnection, message: str) -> None:
    connection.last_error = message[:500]
    connection.last_error_at = timezone.now()
    connection.save(update_fields=["last_error", "last_error_at", "updated_at"])


def mailbox_sync(*, connection: MailboxConnection) -> SyncResult | None:
    """Fetch the new messages of ``connection``'s INBOX and Sent folders into the timeline.

    Returns None when the sync failed; the reason is stored in ``connection.last_error``
    (shown on the mailbox settings page) and the next beat tick tries again.
    """
    try:
        password = decrypt(connection.password_encrypted)
    except DecryptionError:
        _record_failure(connection, UNREADABLE_PASSWORD)
        return None
    client: imaplib.IMAP4 | None = None
    try:
        client = _connect(connection)
        try:
            client.login(connection.username, password)
        except imaplib.IMAP4.error as exc:
            raise SyncError(REFUSED) from exc
        inbox = _sync_folder(client, connection, "INBOX", "inbox")
        sent_folder = find_sent_folder(client)
        connection.sent_folder = sent_folder
        sent = _sync_folder(client, connection, sent_folder, "sent") if sent_folder else None
    except SyncError as exc:
        _record_failure(connection, str(exc))
        return None
    except ssl.SSLCertVerificationError:
        _record_failure(connection, UNTRUSTED)
        return None
    except (OSError, imaplib.IMAP4.error) as exc:  # timeouts are OSErrors
        logger.info("IMAP sync of mailbox %s failed: %s", connection.pk, type(exc).__name__)
        _record_failure(connection, UNREACHABLE)
        return None
    finally:
        if client is not None:
            _logout(client)
    connection.last_synced_at = timezone.now()
    connection.last_error = ""
    connection.last_error_at = None
    connection.save()
    return SyncResult(inbox=inbox, sent=sent)


def _logout(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except (OSError, imaplib.IMAP4.error):
        logger.debug("IMAP logout failed; the connection is dropped anyway")


def mailbox_claim(connection_id: int) -> MailboxConnection | None:
    """Take the sync lease of mailbox ``connection_id``; None when another sync holds it."""
    now = timezone.now()
    claimed = (
        MailboxConnection.objects.filter(pk=connection_id)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE)
    )
    if not claimed:
        return None
    return MailboxConnection.objects.select_related("user").get(pk=connection_id)


def mailbox_release(connection: MailboxConnection) -> None:
    MailboxConnection.objects.filter(pk=connection.pk).update(claimed_until=None)


def mailboxes_due(now: Any = None) -> list[int]:
    """Ids of the mailboxes whose last sync attempt is older than ``EMAIL_IMAP_SYNC_MINUTES``."""
    now = now or timezone.now()
    since = now - timedelta(minutes=settings.EMAIL_IMAP_SYNC_MINUTES)
    stale = Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=since)
    not_failing_recently = Q(last_error_at__isnull=True) | Q(last_error_at__lt=since)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    due = MailboxConnection.objects.filter(stale & not_failing_recently & free).order_by("pk")
    return list(due.values_list("pk", flat=True))
