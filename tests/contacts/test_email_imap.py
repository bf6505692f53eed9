"""Mailbox sync against a real IMAP server: a private Dovecot on loopback (tests/contacts/dovecot.py)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from contacts.email import imap
from contacts.email.crypto import encrypt
from contacts.models import Activity, Contact, MailboxConnection, TeamSettings
from contacts.tasks_email import sync_mailbox, sync_mailboxes
from tests.contacts import dovecot
from tests.factories import ContactFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not dovecot.available(), reason="needs Debian's dovecot-imapd (apt-get install dovecot-imapd)"),
]

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "email"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def server(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dovecot.Dovecot]:
    instance = dovecot.start()
    # The sync reaches loopback only because it is allowed, and trusts the test certificate.
    settings.EMAIL_IMAP_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setenv("SSL_CERT_FILE", instance.ca_file)
    # Amara's reply arrived in the inbox; Alex's two messages are in Sent; the newsletter too.
    instance.deliver(sample("thread_2.eml"))
    instance.deliver(sample("thread_1.eml"), "Sent")
    instance.deliver(sample("thread_3.eml"), "Sent")
    instance.deliver(
        b"From: news@tailspintoys.example\r\nTo: alex.morgan@ourco.example\r\n"
        b"Message-ID: <news-2024-03@tailspintoys.example>\r\nSubject: Spring catalogue\r\n\r\nOut now.\r\n"
    )
    yield instance
    instance.stop()


@pytest.fixture
def amara(team: Any, alice: Any) -> Contact:
    TeamSettings.objects.create(team=team, own_domains=["ourco.example"])
    return ContactFactory(team=team, first_name="Amara", last_name="Okafor", email="amara.okafor@northwind.example")


@pytest.fixture
def connection(server: dovecot.Dovecot, alice: Any) -> MailboxConnection:
    return MailboxConnection.objects.create(
        user=alice,
        host="127.0.0.1",
        port=server.port,
        use_ssl=False,
        username=dovecot.USER,
        password_encrypted=encrypt(dovecot.PASSWORD),
    )


def test_first_sync_imports_inbox_and_sent_second_sync_nothing(connection: MailboxConnection, amara: Contact):
    result = imap.mailbox_sync(connection=connection)

    assert result is not None and result.sent is not None, connection.last_error
    assert (result.inbox.messages, result.inbox.logged, result.inbox.unmatched) == (2, 1, 1)
    assert (result.sent.messages, result.sent.logged) == (2, 2)
    connection.refresh_from_db()
    assert connection.sent_folder == "Sent"  # found by its \Sent flag
    assert (connection.last_uid_inbox, connection.last_uid_sent) == (2, 2)
    assert connection.last_synced_at is not None and connection.last_error == ""
    entries = Activity.objects.filter(contact=amara).order_by("occurred_at")
    assert [(entry.direction, entry.source) for entry in entries] == [("out", "imap"), ("in", "imap"), ("out", "imap")]
    assert {entry.thread_key for entry in entries} == {"20240314093012.4f2a@mail.ourco.example"}

    again = imap.mailbox_sync(connection=connection)

    assert again is not None and again.sent is not None
    assert (again.inbox.messages, again.sent.messages) == (0, 0)
    assert Activity.objects.filter(contact=amara).count() == 3


def test_a_newly_delivered_message_is_picked_up(server: dovecot.Dovecot, connection: MailboxConnection, amara: Contact):
    imap.mailbox_sync(connection=connection)
    server.deliver(
        b"From: Amara Okafor <amara.okafor@northwind.example>\r\nTo: alex.morgan@ourco.example\r\n"
        b"Message-ID: <late@mail.northwind.example>\r\nIn-Reply-To: <20240318141500.77b1@mail.ourco.example>\r\n"
        b"References: <20240314093012.4f2a@mail.ourco.example>\r\nSubject: Re: Tuesday\r\n"
        b"Date: Tue, 19 Mar 2024 08:00:00 +0000\r\n\r\nSee you then.\r\n"
    )

    result = imap.mailbox_sync(connection=connection)

    assert result is not None
    assert (result.inbox.messages, result.inbox.logged) == (1, 1)
    late = Activity.objects.get(contact=amara, external_id="late@mail.northwind.example")
    assert (late.direction, late.thread_key) == ("in", "20240314093012.4f2a@mail.ourco.example")
    amara.refresh_from_db()
    assert not amara.awaiting_reply


def test_a_new_uidvalidity_reads_the_folder_again_without_duplicates(connection: MailboxConnection, amara: Contact):
    imap.mailbox_sync(connection=connection)
    count = Activity.objects.count()
    MailboxConnection.objects.filter(pk=connection.pk).update(uidvalidity_inbox=1, last_uid_inbox=999)
    connection.refresh_from_db()

    result = imap.mailbox_sync(connection=connection)

    assert result is not None
    assert result.inbox.messages >= 2  # read from the start again
    assert result.inbox.entries_created == 0
    assert Activity.objects.count() == count


def test_a_wrong_password_is_stored_as_the_error(connection: MailboxConnection):
    connection.password_encrypted = encrypt("wrong")

    assert imap.mailbox_sync(connection=connection) is None

    connection.refresh_from_db()
    assert connection.last_error == imap.REFUSED
    assert connection.last_synced_at is None


def test_an_unreachable_server_is_stored_as_retry_later(connection: MailboxConnection, settings: Any):
    settings.EMAIL_IMAP_TIMEOUT = 2
    connection.port = dovecot._free_port()  # nothing listens there

    assert imap.mailbox_sync(connection=connection) is None

    connection.refresh_from_db()
    assert connection.last_error == "Couldn't reach the mail server; will retry."


def test_the_beat_task_queues_due_mailboxes_and_the_sync_task_runs_once(
    connection: MailboxConnection, amara: Contact, django_capture_on_commit_callbacks: Any
):
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_mailboxes.delay().get() == 1

    assert Activity.objects.filter(contact=amara).count() == 3
    assert imap.mailboxes_due() == []  # synced just now
    MailboxConnection.objects.filter(pk=connection.pk).update(claimed_until=timezone.now() + imap.LEASE)
    assert sync_mailbox(connection.pk) == 0  # another worker holds the lease


def test_sync_goes_through_the_settings_page(
    client_for: Any, alice: Any, server: dovecot.Dovecot, amara: Contact, django_capture_on_commit_callbacks: Any
):
    data = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "starttls",
        "username": dovecot.USER,
        "password": dovecot.PASSWORD,
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post("/contacts/email/mailbox/", data)

    assert response.status_code == 302
    assert Activity.objects.filter(contact=amara, source="imap").count() == 3
    page = client_for(alice).get("/contacts/email/mailbox/").content.decode()
    assert "Last synced" in page


@pytest.mark.parametrize("use_ssl", [False, True], ids=["starttls", "imaps"])
def test_the_connection_is_tls_to_the_checked_address(
    server: dovecot.Dovecot, connection: MailboxConnection, use_ssl: bool
):
    connection.use_ssl = use_ssl
    connection.port = server.imaps_port if use_ssl else server.port

    client = imap._connect(connection)
    try:
        assert isinstance(client.sock, ssl.SSLSocket)
        assert client.sock.getpeername()[:2] == ("127.0.0.1", connection.port)
        assert client.login(dovecot.USER, dovecot.PASSWORD)[0] == "OK"
    finally:
        client.logout()


def test_a_server_that_is_no_longer_allowed_is_refused_at_connect(
    connection: MailboxConnection, amara: Contact, settings: Any
):
    settings.EMAIL_IMAP_ALLOWED_HOSTS = []  # saved while allowed, then the allow-list changed

    assert imap.mailbox_sync(connection=connection) is None

    connection.refresh_from_db()
    assert connection.last_error.startswith("The mail server is not allowed: '127.0.0.1' resolves to 127.0.0.1")
    assert not Activity.objects.exists()


def test_the_certificate_is_checked_against_the_host_name_not_the_address(
    server: dovecot.Dovecot, connection: MailboxConnection, settings: Any, monkeypatch: pytest.MonkeyPatch
):
    # A name the test certificate does not cover, resolving to the server's address.
    real = socket.getaddrinfo

    def resolve(host: str, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == "imap.other-name.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    settings.EMAIL_IMAP_ALLOWED_HOSTS = ["imap.other-name.test"]
    connection.host = "imap.other-name.test"

    assert imap.mailbox_sync(connection=connection) is None

    connection.refresh_from_db()
    assert connection.last_error == imap.UNTRUSTED
