"""Email pages: upload, the dropbox webhook, the thread page, the panel and the settings page."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.email import ingest
from contacts.email.crypto import decrypt
from contacts.email.dropbox import SIGNATURE_HEADER, sign
from contacts.email.forms import PLAINTEXT_REFUSED, MailboxConnectionForm
from contacts.models import Activity, Contact, InboundDelivery, MailboxConnection, TeamSettings
from socialcrm.audit.models import AuditEvent
from tests.contacts.mail import SECRET, post_signed, sample
from tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

REPLY_ID = "CAF=okafor.1234@mail.northwind.example"
ROOT_ID = "20240314093012.4f2a@mail.ourco.example"


@pytest.fixture
def amara(team: Any, alice: Any) -> Contact:
    TeamSettings.objects.update_or_create(team=team, defaults={"own_domains": ["ourco.example"]})
    return ContactFactory(
        team=team, owner=alice, first_name="Amara", last_name="Okafor", email="amara.okafor@northwind.example"
    )


def upload(client: Client, url: str, name: str, data: bytes | None = None) -> Any:
    return client.post(url, {"file": SimpleUploadedFile(name, sample(name) if data is None else data)})


# --- Upload -------------------------------------------------------------------------------------


def test_uploading_the_mbox_reports_logged_skipped_and_already_logged(client_for: Any, alice: Any, amara: Contact):
    client = client_for(alice)
    url = reverse("contacts:email_upload")

    first = upload(client, url, "mailbox.mbox")
    again = upload(client, url, "mailbox.mbox")

    assert first.status_code == 200
    result = first.context["result"]
    assert (result.messages, result.logged, result.unmatched, result.already_logged) == (4, 3, 1, 0)
    assert "4 messages read" in first.content.decode()
    assert "skipped: no contact has any of their addresses" in first.content.decode()
    assert again.context["result"].already_logged == 3
    assert Activity.objects.filter(contact=amara, kind="email").count() == 3
    assert AuditEvent.objects.filter(action="email.logged", object_type="", actor=alice).count() == 2


def test_upload_on_a_contact_logs_only_on_that_contact(client_for: Any, alice: Any, amara: Contact, team: Any):
    lukas = ContactFactory(team=team, email="lukas@brandt-soehne.example")

    response = upload(client_for(alice), reverse("contacts:contact_email_upload", args=[lukas.pk]), "mailbox.mbox")

    assert response.status_code == 200
    assert list(Activity.objects.values_list("contact_id", "external_id")) == [
        (lukas.pk, "20240318141500.77b1@mail.ourco.example")
    ]


def test_upload_on_an_organization_logs_on_its_people(client_for: Any, alice: Any, amara: Contact, team: Any):
    northwind = OrganizationFactory(team=team, name="Northwind")
    amara.organization = northwind
    amara.save(update_fields=["organization"])
    url = reverse("contacts:organization_email_upload", kwargs={"organization_pk": northwind.pk})

    response = upload(client_for(alice), url, "thread_2.eml")

    assert response.context["result"].logged == 1
    assert Activity.objects.get().contact == amara


def test_charlie_cannot_upload_onto_alices_contact(client_for: Any, charlie: Any, amara: Contact):
    url = reverse("contacts:contact_email_upload", args=[amara.pk])

    assert upload(client_for(charlie), url, "thread_2.eml").status_code == 404
    assert client_for(charlie).get(url).status_code == 404
    assert not Activity.objects.exists()


def test_broken_upload_is_reported_not_a_500(client_for: Any, alice: Any, amara: Contact):
    truncated = sample("mailbox.mbox")[:1500]  # cut before the second message's first MIME part

    response = upload(client_for(alice), reverse("contacts:email_upload"), "mailbox.mbox", truncated)

    assert response.status_code == 200
    result = response.context["result"]
    assert result.logged == 1
    assert [(entry.index, entry.reason, entry.message_id) for entry in result.broken] == [
        (2, "it is cut off (its MIME parts are missing)", REPLY_ID)
    ]
    # Its Message-ID, read from the raw header section, helps find it in the mail program.
    assert f"Message 2 (Message-ID <code>{REPLY_ID}</code>): it is cut off" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe" + "garbage".encode("utf-16-le") * 100, b"", b"From: \x00\x00\n\n\x00"],
    ids=["utf-16", "empty", "nul-bytes"],
)
def test_hostile_uploads_are_reported(client_for: Any, alice: Any, amara: Contact, data: bytes):
    response = upload(client_for(alice), reverse("contacts:email_upload"), "x.eml", data)

    assert response.status_code == 200
    if data:
        assert response.context["result"].broken
    else:  # Django's FileField refuses an empty file
        assert "The submitted file is empty." in response.content.decode()
    assert not Activity.objects.exists()


def test_a_file_over_the_upload_limit_is_refused(client_for: Any, alice: Any, settings: Any):
    settings.EMAIL_MAX_UPLOAD_BYTES = 1000

    response = upload(client_for(alice), reverse("contacts:email_upload"), "mailbox.mbox")

    assert "This file is larger than 1000\xa0bytes" in response.content.decode()
    assert response.context["result"] is None


# --- The thread page and the panel --------------------------------------------------------------


def test_thread_page_shows_the_conversation_without_the_script(client_for: Any, alice: Any, amara: Contact):
    upload(client_for(alice), reverse("contacts:email_upload"), "mailbox.mbox")
    reply = Activity.objects.get(external_id=REPLY_ID)

    response = client_for(alice).get(reverse("contacts:thread", args=[reply.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert [message.activity.external_id for message in response.context["entries"]] == [
        ROOT_ID,
        REPLY_ID,
        "20240318141500.77b1@mail.ourco.example",
    ]
    assert "<script" not in html.split("<main", 1)[1]
    assert "alert(" not in html
    assert "<b>Tuesday 10:00 CET</b>" in html
    assert "Northwind-pricing-2024.pdf" in html
    assert "Following up on our call \u2013 pricing for Northwind" in html
    assert "Awaiting their reply" in html


def test_charlie_cannot_open_alices_thread(client_for: Any, alice: Any, charlie: Any, amara: Contact):
    upload(client_for(alice), reverse("contacts:email_upload"), "thread_2.eml")
    reply = Activity.objects.get(external_id=REPLY_ID)

    assert client_for(charlie).get(reverse("contacts:thread", args=[reply.pk])).status_code == 404


def test_contact_page_panel_lists_the_thread_and_awaiting_reply(client_for: Any, alice: Any, amara: Contact):
    upload(client_for(alice), reverse("contacts:email_upload"), "mailbox.mbox")
    newest = Activity.objects.filter(contact=amara).latest("occurred_at")

    html = client_for(alice).get(reverse("contacts:detail", args=[amara.pk])).content.decode()

    assert 'data-panel="email"' in html
    assert "Awaiting reply" in html
    assert reverse("contacts:thread", args=[newest.pk]) in html
    assert "3 messages" in html


def test_email_panel_costs_one_query_whatever_the_thread_count(
    client_for: Any, alice: Any, amara: Contact, django_assert_num_queries: Any, rf: Any
):
    from contacts.views.email import email_panel, handles_mail

    request = rf.get("/")
    request.user = alice
    handles_mail(alice)  # the page checked the user's roles already (cached on the user)
    # One query: the contact's newest email rows (the contact itself is already loaded).
    with django_assert_num_queries(1):
        email_panel(request, amara)
    for index in range(30):
        Activity.objects.create(
            contact=amara, kind="email", occurred_at=amara.created_at, external_id=f"m{index}", thread_key=f"t{index}"
        )
    with django_assert_num_queries(1):
        html = email_panel(request, amara)
    assert html.count("/thread/") == 5


def test_email_panel_escapes_the_subjects_people_wrote(rf: Any, alice: Any, amara: Contact):
    from contacts.views.email import email_panel

    Activity.objects.create(
        contact=amara, kind="email", occurred_at=amara.created_at, subject="<script>x()</script> & co", thread_key="t"
    )
    request = rf.get("/")
    request.user = alice
    html = email_panel(request, amara)
    assert "&lt;script&gt;x()&lt;/script&gt; &amp; co" in html
    assert "<script" not in html


# --- The dropbox webhook ----------------------------------------------------------------------------


@pytest.fixture
def dropbox(settings: Any, team: Any, amara: Contact) -> str:
    settings.INBOUND_EMAIL_SECRET = SECRET
    TeamSettings.objects.filter(team=team).update(dropbox_token="a" * 32)
    return reverse("contacts:inbound_email", args=["a" * 32])


def test_webhook_logs_a_signed_message(dropbox: str, amara: Contact):
    response = post_signed(dropbox, sample("thread_2.eml"))

    assert response.status_code == 200
    assert response.json()["logged"] == 1
    entry = Activity.objects.get(contact=amara)
    assert (entry.source, entry.direction, entry.actor) == ("dropbox", "in", None)
    assert "<script" not in entry.body_html


def test_webhook_three_forwards_of_the_same_mail_make_one_entry(dropbox: str, amara: Contact):
    # Each teammate's forward is a separate, freshly signed delivery. One clock reading: read
    # per post, a second ticking over between posts would repeat a timestamp (a replay, 409).
    now = int(time.time())
    for offset in range(3):
        response = post_signed(dropbox, sample("thread_3.eml"), timestamp=now - offset)
        assert response.status_code == 200

    assert Activity.objects.filter(contact=amara).count() == 1
    assert response.json()["already_logged"] == 1


def test_webhook_rejects_a_bad_signature(dropbox: str):
    response = post_signed(dropbox, sample("thread_2.eml"), secret="wrong")

    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_webhook_rejects_a_missing_signature(dropbox: str):
    assert Client().post(dropbox, sample("thread_2.eml"), content_type="message/rfc822").status_code == 403


@pytest.mark.parametrize("header", ["t=\u00b2,v1=abc", "t=,v1=abc", "t=12a,v1=abc", "v1=abc", "garbage"])
def test_webhook_rejects_a_malformed_signature_header(dropbox: str, header: str):
    response = Client().post(
        dropbox, sample("thread_2.eml"), content_type="message/rfc822", headers={SIGNATURE_HEADER: header}
    )

    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_webhook_rejects_a_stale_timestamp(dropbox: str):
    response = post_signed(dropbox, sample("thread_2.eml"), timestamp=int(time.time()) - 301)

    assert response.status_code == 403
    assert response.json() == {"error": "stale timestamp"}


def test_webhook_rejects_a_replay(dropbox: str):
    body = sample("thread_2.eml")
    signature = sign(body, int(time.time()), SECRET)
    headers = {SIGNATURE_HEADER: signature}

    first = Client().post(dropbox, body, content_type="message/rfc822", headers=headers)
    replay = Client().post(dropbox, body, content_type="message/rfc822", headers=headers)

    assert (first.status_code, replay.status_code) == (200, 409)


@pytest.mark.usefixtures("redis_cache_down")
def test_webhook_rejects_a_replay_while_redis_is_down(dropbox: str, amara: Contact):
    body = sample("thread_2.eml")
    headers = {SIGNATURE_HEADER: sign(body, int(time.time()), SECRET)}

    first = Client().post(dropbox, body, content_type="message/rfc822", headers=headers)
    replay = Client().post(dropbox, body, content_type="message/rfc822", headers=headers)

    assert (first.status_code, replay.status_code) == (200, 409)
    assert Activity.objects.filter(contact=amara).count() == 1


def test_the_same_signed_message_is_accepted_once_by_each_teams_dropbox(dropbox: str, other_team: Any):
    # A relay delivering one mail sent to two teams' dropboxes may sign both posts alike.
    TeamSettings.objects.create(team=other_team, dropbox_token="b" * 32)
    body = sample("thread_2.eml")
    headers = {SIGNATURE_HEADER: sign(body, int(time.time()), SECRET)}
    other = reverse("contacts:inbound_email", args=["b" * 32])

    statuses = [
        Client().post(url, body, content_type="message/rfc822", headers=headers).status_code
        for url in (dropbox, other, other)
    ]

    assert statuses == [200, 200, 409]


def test_a_delivery_that_failed_to_log_is_accepted_when_the_relay_retries(
    dropbox: str, amara: Contact, monkeypatch: pytest.MonkeyPatch
):
    body = sample("thread_2.eml")
    headers = {SIGNATURE_HEADER: sign(body, int(time.time()), SECRET)}

    def database_trouble(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("deadlock detected")

    with monkeypatch.context() as patch:
        patch.setattr(ingest, "activity_record_many", database_trouble)
        failed = Client(raise_request_exception=False).post(
            dropbox, body, content_type="message/rfc822", headers=headers
        )
    retried = Client().post(dropbox, body, content_type="message/rfc822", headers=headers)

    assert (failed.status_code, retried.status_code) == (500, 200)
    assert Activity.objects.filter(contact=amara).count() == 1


def test_accepted_signatures_are_forgotten_once_past_twice_the_window(dropbox: str, team: Any):
    old = timezone.now() - timedelta(seconds=601)
    InboundDelivery.objects.create(team=team, signature="f" * 64, signed_at=old)
    recent = InboundDelivery.objects.create(team=team, signature="e" * 64, signed_at=old + timedelta(seconds=2))

    assert post_signed(dropbox, sample("thread_2.eml")).status_code == 200

    assert not InboundDelivery.objects.filter(signature="f" * 64).exists()
    assert InboundDelivery.objects.filter(pk=recent.pk).exists()


def test_webhook_refuses_a_too_large_body(dropbox: str, settings: Any):
    settings.EMAIL_MAX_MESSAGE_BYTES = 1000

    response = post_signed(dropbox, sample("thread_2.eml"))

    assert response.status_code == 413


def test_webhook_accepts_a_message_above_djangos_memory_limit(dropbox: str, settings: Any, amara: Contact):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # request.body would refuse this

    assert post_signed(dropbox, sample("thread_2.eml")).status_code == 200


def test_webhook_unknown_token_is_404(dropbox: str):
    response = post_signed(reverse("contacts:inbound_email", args=["b" * 32]), sample("thread_2.eml"))

    assert response.status_code == 404


def test_webhook_is_off_without_a_secret(dropbox: str, settings: Any):
    settings.INBOUND_EMAIL_SECRET = ""

    assert post_signed(dropbox, sample("thread_2.eml")).status_code == 403


def test_webhook_reports_a_broken_message(dropbox: str):
    response = post_signed(dropbox, b"no headers at all")

    assert response.status_code == 200
    assert response.json()["broken"] == [{"index": 1, "reason": "no readable sender (From) address", "message_id": ""}]
    assert response.json()["broken_count"] == 1


def test_webhook_only_matches_the_dropbox_team(dropbox: str, other_team: Any):
    twin = ContactFactory(team=other_team, email="amara.okafor@northwind.example")

    post_signed(dropbox, sample("thread_2.eml"))

    assert not Activity.objects.filter(contact=twin).exists()


# --- Settings -------------------------------------------------------------------------------------


NAMES = {"imap.example.com": "93.184.216.34", "imap.corp.example": "10.1.2.3"}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The names the settings tests type in resolve as in NAMES (the sandbox has no DNS)."""
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in NAMES:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (NAMES[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def connect_form(**data: Any) -> MailboxConnectionForm:
    defaults = {"host": "imap.example.com", "port": "993", "security": "ssl", "username": "a", "password": "p"}
    return MailboxConnectionForm({**defaults, **data})


def test_connecting_a_mailbox_stores_the_password_encrypted(client_for: Any, alice: Any):
    data = {"host": "imap.example.com", "port": "993", "security": "ssl", "username": "alice@x.example"}

    response = client_for(alice).post(reverse("contacts:mailbox_settings"), {**data, "password": "s3cret-app-pw"})

    assert response.status_code == 302

    connection = MailboxConnection.objects.get(user=alice)
    assert connection.password_encrypted != "s3cret-app-pw"
    assert "s3cret" not in connection.password_encrypted
    assert decrypt(connection.password_encrypted) == "s3cret-app-pw"
    page = client_for(alice).get(reverse("contacts:mailbox_settings")).content.decode()
    assert "s3cret-app-pw" not in page
    assert "Connected to <strong>alice@x.example</strong>" in page


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "localhost", "imap.corp.example", "2130706433"]
)
def test_a_mail_server_on_a_private_or_reserved_network_is_refused(host: str):
    form = connect_form(host=host)

    assert not form.is_valid()
    assert "private or reserved network" in form.errors["host"][0]


@pytest.mark.parametrize("security", ["", "none", "plain"])
def test_plain_imap_without_tls_is_refused(security: str):
    form = connect_form(port="143", security=security)

    assert not form.is_valid()
    assert form.errors["security"] == [PLAINTEXT_REFUSED]


def test_starttls_on_port_143_is_accepted():
    form = connect_form(port="143", security="starttls")

    assert form.is_valid(), form.errors
    assert form.connection_settings()["use_ssl"] is False


def test_a_port_other_than_imaps_is_refused_and_a_typo_is_reported():
    assert "not an IMAP port" in connect_form(port="25").errors["port"][0]
    assert "cannot be found" in connect_form(host="imap.nowhere.invalid").errors["host"][0]


def test_the_allow_list_lets_a_private_server_through_on_any_port(settings: Any):
    settings.EMAIL_IMAP_ALLOWED_HOSTS = ["10.0.0.0/8", "localhost"]

    assert connect_form(host="imap.corp.example", port="1143").is_valid()
    assert connect_form(host="localhost").is_valid()
    assert not connect_form(host="169.254.169.254").is_valid()


def test_the_settings_page_shows_a_refused_server(client_for: Any, alice: Any):
    data = {"host": "169.254.169.254", "port": "993", "security": "ssl", "username": "a", "password": "p"}

    response = client_for(alice).post(reverse("contacts:mailbox_settings"), data)

    assert response.status_code == 200
    assert "private or reserved network" in response.content.decode()
    assert not MailboxConnection.objects.exists()


def test_the_settings_page_shows_the_last_error(client_for: Any, alice: Any):
    MailboxConnection.objects.create(
        user=alice,
        host="imap.example.com",
        username="alice",
        password_encrypted="x",
        last_error="Couldn't reach the mail server; will retry.",
    )

    page = client_for(alice).get(reverse("contacts:mailbox_settings")).content.decode()

    assert "reach the mail server; will retry." in page


def test_disconnecting_deletes_the_connection(client_for: Any, alice: Any):
    MailboxConnection.objects.create(user=alice, host="h.example", username="a", password_encrypted="x")

    response = client_for(alice).post(reverse("contacts:mailbox_disconnect"))

    assert response.status_code == 302
    assert not MailboxConnection.objects.exists()


def test_a_manager_sets_the_domains_and_creates_a_dropbox(client_for: Any, mona: Any, alice: Any, team: Any):
    url = reverse("contacts:team_mail_settings", args=[team.pk])

    client_for(mona).post(url, {"own_domains": "OurCo.example, @sub.ourco.example"})
    client_for(mona).post(url, {"rotate": "1"})

    row = TeamSettings.objects.get(team=team)
    assert row.own_domains == ["ourco.example", "sub.ourco.example"]
    assert len(row.dropbox_token) == 32
    page = client_for(alice).get(reverse("contacts:mailbox_settings")).content.decode()
    assert reverse("contacts:inbound_email", args=[row.dropbox_token]) in page
    assert client_for(alice).post(url, {"rotate": "1"}).status_code == 404


def test_invalid_domains_are_refused(client_for: Any, mona: Any, team: Any):
    client_for(mona).post(reverse("contacts:team_mail_settings", args=[team.pk]), {"own_domains": "not a domain"})

    assert not TeamSettings.objects.filter(team=team).exclude(own_domains=[]).exists()


def test_timeline_entries_link_to_their_conversation(client_for: Any, alice: Any, amara: Contact):
    upload(client_for(alice), reverse("contacts:email_upload"), "thread_1.eml")
    entry = Activity.objects.get(contact=amara)

    html = client_for(alice).get(reverse("contacts:detail", args=[amara.pk])).content.decode()

    assert f'href="{reverse("contacts:thread", args=[entry.pk])}">View the conversation' in html
