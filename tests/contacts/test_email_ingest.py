"""The email pipeline on the sample thread: matching, direction, dedupe, threading, hostile input."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from contacts.email.ingest import Source, email_ingest
from contacts.email.parse import BODY_MAX_CHARS, BrokenMessage, html_to_text, parse_message, read_messages
from contacts.models import Activity, Contact, TeamSettings
from contacts.selectors import visible_contacts
from tests.factories import ContactFactory, ContactMethodFactory

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "email"
ROOT_ID = "20240314093012.4f2a@mail.ourco.example"
REPLY_ID = "CAF=okafor.1234@mail.northwind.example"
ANSWER_ID = "20240318141500.77b1@mail.ourco.example"
SUBJECT = "Following up on our call \u2013 pricing for Northwind"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def mbox_messages(data: bytes) -> list[bytes]:
    return list(read_messages(io.BytesIO(data), max_bytes=10 * 1_048_576))


@pytest.fixture
def amara(team: Any, alice: Any) -> Contact:
    TeamSettings.objects.create(team=team, own_domains=["ourco.example"])
    return ContactFactory(
        team=team, owner=alice, first_name="Amara", last_name="Okafor", email="amara.okafor@northwind.example"
    )


def ingest(user: Any, *files: str, contacts: Any = None, source: str = Source.UPLOAD) -> Any:
    raw: list[bytes] = []
    for name in files:
        raw.extend(mbox_messages(sample(name)))
    return email_ingest(
        actor=user,
        source=source,
        raw_messages=raw,
        contacts=visible_contacts(user) if contacts is None else contacts,
        own_addresses=[user.email],
    )


# --- Parsing ------------------------------------------------------------------------------------


def test_rfc2047_subject_display_name_and_mixed_case_address_are_decoded():
    reply = parse_message(sample("thread_2.eml"))

    assert reply.subject == f"Re: {SUBJECT}"
    assert reply.sender is not None
    assert (reply.sender.name, reply.sender.email) == ("Okafor, Amara", "amara.okafor@northwind.example")
    assert reply.date == datetime(2024, 3, 15, 16, 2, 45, tzinfo=UTC)


def test_thread_key_is_the_root_message_id():
    keys = {name: parse_message(sample(name)) for name in ("thread_1.eml", "thread_2.eml", "thread_3.eml")}

    assert [message.message_id for message in keys.values()] == [ROOT_ID, REPLY_ID, ANSWER_ID]
    assert {message.thread_key for message in keys.values()} == {ROOT_ID}
    assert keys["thread_3.eml"].references == [ROOT_ID, REPLY_ID]
    assert keys["thread_3.eml"].in_reply_to == REPLY_ID


def test_quoted_printable_html_part_is_decoded_and_attachments_are_metadata():
    reply = parse_message(sample("thread_2.eml"))
    first = parse_message(sample("thread_1.eml"))

    assert "<b>Tuesday 10:00 CET</b>" in reply.html  # the soft line break inside the tag is undone
    assert reply.text.startswith("Hi Alex,\n\nThanks \u2014 the numbers look reasonable.")
    assert first.attachments == [{"name": "Northwind-pricing-2024.pdf", "type": "application/pdf", "size": 18}]


def test_attachment_names_in_rfc2047_rfc2231_and_raw_utf8_are_decoded():
    def attached(disposition: bytes) -> str:
        raw = (
            b"From: a@x.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            b"Content-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\n"
            b"Content-Disposition: attachment; " + disposition + b"\r\n\r\n%PDF\r\n--b--\r\n"
        )
        return str(parse_message(raw).attachments[0]["name"])

    assert attached(b'filename="=?utf-8?q?caf=C3=A9.pdf?="') == "caf\u00e9.pdf"  # as Outlook sends it
    assert attached(b"filename*=utf-8''caf%C3%A9.pdf") == "caf\u00e9.pdf"
    assert attached(b'filename="caf\xc3\xa9.pdf"') == "caf\u00e9.pdf"


def test_mbox_holds_the_three_thread_messages_and_the_newsletter():
    messages = [parse_message(raw) for raw in mbox_messages(sample("mailbox.mbox"))]

    assert [message.message_id for message in messages] == [
        ROOT_ID,
        REPLY_ID,
        ANSWER_ID,
        "news-2024-03@tailspintoys.example",
    ]


def test_html_only_message_gets_a_plain_text_body_without_script():
    raw = (
        b"From: a@x.example\r\nTo: b@y.example\r\nSubject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{}</style></head><body><p>Hello &amp; welcome</p><script>evil()</script>"
        b"<p>Second<br>line</p></body></html>"
    )
    message = parse_message(raw)

    assert message.text == "Hello & welcome\n\nSecond\nline"
    assert html_to_text("<div>a</div><div>b</div>") == "a\n\nb"


def test_odd_and_unknown_charsets_are_decoded_not_fatal():
    cp1252 = (
        b"From: =?windows-1252?q?Ren=E9e?= <renee@x.example>\r\nSubject: caf\xe9\r\n"
        b"Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Caf=E9 =80 5\r\n"
    )
    mislabeled = b"From: a@x.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nna\xefve\r\n"
    unknown = b"From: a@x.example\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nplain ascii\r\n"

    message = parse_message(cp1252)
    assert message.sender is not None
    assert message.sender.name == "Ren\u00e9e"
    assert message.subject == "caf\u00e9"  # raw 8-bit header bytes that are not UTF-8
    assert message.text.strip() == "Caf\u00e9 \u20ac 5"
    assert parse_message(mislabeled).text.strip() == "na\u00efve"
    assert parse_message(unknown).text.strip() == "plain ascii"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"just some text without headers\n", "no readable sender"),
        ("From: a@x.example\r\n\r\nutf-16".encode("utf-16"), "no readable sender"),
        (sample("thread_1.eml")[:600], "cut off"),
        (b"From: a@x.example\r\nSubject: " + b"x" * 10_485_760 + b"\r\n\r\nbody", "headers are larger"),
    ],
    ids=["empty", "no-headers", "utf-16", "truncated-multipart", "10MB-header"],
)
def test_broken_messages_raise_a_readable_reason(raw: bytes, reason: str):
    with pytest.raises(BrokenMessage, match=reason):
        parse_message(raw, max_bytes=20 * 1_048_576)


def test_a_10mb_body_is_capped_and_an_oversized_message_reported():
    raw = b"From: a@x.example\r\nSubject: big\r\n\r\n" + b"y" * 10_485_760

    message = parse_message(raw)
    assert len(message.text) < BODY_MAX_CHARS + 100
    assert message.text.endswith(f"longer than {BODY_MAX_CHARS:,} characters]")
    with pytest.raises(BrokenMessage, match="larger than the 10 MB limit"):
        parse_message(raw, max_bytes=10 * 1_048_576)


def test_mbox_split_undoes_from_quoting_and_caps_huge_messages():
    data = b"From x\nFrom: a@x.example\n\n>From here on\nbody\n\nFrom y\nFrom: b@x.example\n\n" + b"z" * 5000 + b"\n"

    first, second = list(read_messages(io.BytesIO(data), max_bytes=1000))
    assert first == b"From: a@x.example\n\nFrom here on\nbody\n"
    assert 1000 < len(second) < 6000


# --- Recording --------------------------------------------------------------------------------


def test_the_thread_is_logged_with_direction_threading_and_derived_times(alice: Any, amara: Contact):
    result = ingest(alice, "thread_1.eml", "thread_2.eml", "thread_3.eml")

    assert (result.messages, result.logged, result.unmatched, result.entries_created) == (3, 3, 0, 3)
    entries = list(Activity.objects.filter(contact=amara).order_by("occurred_at"))
    assert [(entry.external_id, entry.direction) for entry in entries] == [
        (ROOT_ID, "out"),
        (REPLY_ID, "in"),
        (ANSWER_ID, "out"),
    ]
    assert {entry.thread_key for entry in entries} == {ROOT_ID}
    assert {entry.kind for entry in entries} == {"email"}
    assert {entry.source for entry in entries} == {"upload"}
    assert {entry.actor for entry in entries} == {alice}
    assert entries[0].subject == SUBJECT
    assert entries[0].payload["attachments"] == [
        {"name": "Northwind-pricing-2024.pdf", "type": "application/pdf", "size": 18}
    ]
    assert entries[1].payload["from"] == {"name": "Okafor, Amara", "email": "amara.okafor@northwind.example"}
    assert entries[2].payload["cc"] == [
        {"name": "Lukas Brandt", "email": "lukas@brandt-soehne.example"},
        {"name": "", "email": "crm-log+7f3a9c@ourco.example"},
    ]
    amara.refresh_from_db()
    assert amara.last_inbound_at == datetime(2024, 3, 15, 16, 2, 45, tzinfo=UTC)
    assert amara.last_outbound_at == datetime(2024, 3, 18, 13, 15, tzinfo=UTC)
    assert amara.last_contacted_at == amara.last_outbound_at
    assert amara.awaiting_reply


def test_the_script_in_the_html_part_is_not_stored(alice: Any, amara: Contact):
    ingest(alice, "thread_2.eml")

    reply = Activity.objects.get(contact=amara, external_id=REPLY_ID)
    assert "<script" not in reply.body_html
    assert "alert(" not in reply.body_html
    assert "<b>Tuesday 10:00 CET</b>" in reply.body_html
    assert reply.body.startswith("Hi Alex,")


def test_the_mbox_after_the_eml_files_adds_nothing_and_skips_the_newsletter(alice: Any, amara: Contact):
    ingest(alice, "thread_1.eml", "thread_2.eml", "thread_3.eml")

    result = ingest(alice, "mailbox.mbox")

    assert result.as_dict() == {
        "messages": 4,
        "logged": 0,
        "already_logged": 3,
        "unmatched": 1,
        "entries_created": 0,
        "forwards_unwrapped": 0,
        "broken_count": 0,
        "broken": [],
    }
    assert Activity.objects.filter(contact=amara).count() == 3
    assert Contact.objects.count() == 1  # the newsletter's sender did not become a contact


def test_the_mbox_alone_logs_the_thread_once(alice: Any, amara: Contact):
    result = ingest(alice, "mailbox.mbox", "mailbox.mbox")

    assert (result.messages, result.logged, result.already_logged, result.unmatched) == (8, 3, 3, 2)
    assert Activity.objects.filter(contact=amara).count() == 3


def test_three_teammates_forwarding_the_same_mail_make_one_entry(alice: Any, bob: Any, mona: Any, amara: Contact):
    for user in (alice, bob, mona):
        ingest(user, "thread_2.eml", source=Source.DROPBOX)

    assert Activity.objects.filter(contact=amara, external_id=REPLY_ID).count() == 1


def test_every_matched_contact_gets_the_message_and_a_copied_person_has_no_direction(alice: Any, amara: Contact):
    lukas = ContactFactory(team=amara.team, first_name="Lukas", last_name="Brandt", email="Lukas@Brandt-Soehne.example")
    ingest(alice, "mailbox.mbox")

    # Lukas is copied on Alex's answer (ours: outbound); he wrote nothing himself.
    assert [(entry.external_id, entry.direction) for entry in Activity.objects.filter(contact=lukas)] == [
        (ANSWER_ID, "out")
    ]
    third_party = (
        b"From: someone@else.example\r\nTo: lukas@brandt-soehne.example\r\nMessage-ID: <x1@else.example>\r\n\r\nhi\r\n"
    )
    email_ingest(actor=alice, source=Source.UPLOAD, raw_messages=[third_party], contacts=visible_contacts(alice))
    assert Activity.objects.get(contact=lukas, external_id="x1@else.example").direction == ""


def test_matching_stays_within_the_scope(alice: Any, charlie: Any, amara: Contact):
    result = ingest(charlie, "mailbox.mbox")

    assert (result.logged, result.unmatched) == (0, 4)
    assert not Activity.objects.exists()


def test_a_contact_scope_logs_only_on_that_contact(alice: Any, amara: Contact):
    other = ContactFactory(team=amara.team, email="lukas@brandt-soehne.example")

    ingest(alice, "mailbox.mbox", contacts=Contact.objects.filter(pk=other.pk))

    assert list(Activity.objects.values_list("contact_id", flat=True)) == [other.pk]


def test_the_same_address_in_two_teams_logs_on_each_visible_one(admin: Any, amara: Contact, other_team: Any):
    twin = ContactFactory(team=other_team, email="amara.okafor@northwind.example")

    ingest(admin, "thread_2.eml")

    assert set(Activity.objects.values_list("contact_id", flat=True)) == {amara.pk, twin.pk}


def test_broken_messages_in_an_mbox_are_reported_with_their_index(alice: Any, amara: Contact):
    data = sample("mailbox.mbox")
    garbage = b"\nFrom MAILER-DAEMON\ngarbage without headers\n"
    hostile = data + garbage + b"\nFrom MAILER-DAEMON\n" + sample("thread_1.eml")[:600]

    result = ingest_bytes(alice, hostile)

    assert result.logged == 3
    assert [(entry.index, entry.reason) for entry in result.broken] == [
        (5, "no readable sender (From) address"),
        (6, "it is cut off (a MIME part never ends)"),
    ]


def test_a_message_without_message_id_is_still_deduplicated(alice: Any, amara: Contact):
    raw = (
        b"From: amara.okafor@northwind.example\r\nSubject: no id\r\n"
        b"Date: Mon, 1 Apr 2024 10:00:00 +0000\r\n\r\nhello\r\n"
    )

    first = email_ingest(actor=alice, source="upload", raw_messages=[raw], contacts=visible_contacts(alice))
    second = email_ingest(actor=alice, source="upload", raw_messages=[raw], contacts=visible_contacts(alice))

    assert (first.logged, second.already_logged) == (1, 1)
    assert Activity.objects.get(contact=amara).external_id.endswith("@no-message-id")


def test_a_method_on_another_kind_does_not_match(alice: Any, amara: Contact):
    ContactMethodFactory(contact=amara, kind="handle", value="news@tailspintoys.example")

    assert ingest(alice, "mailbox.mbox").unmatched == 1


def mail(message_id: str, *, in_reply_to: str = "", references: str = "", date: str = "") -> bytes:
    headers = [
        "From: amara.okafor@northwind.example",
        "To: alex@ourco.example",
        f"Message-ID: <{message_id}>",
        f"Date: {date or 'Mon, 1 Apr 2024 10:00:00 +0000'}",
    ]
    if in_reply_to:
        headers.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        headers.append(f"References: {references}")
    return ("\r\n".join(headers) + "\r\n\r\nhi\r\n").encode()


def thread_keys(contact: Contact) -> dict[str, str]:
    return dict(Activity.objects.filter(contact=contact).values_list("external_id", "thread_key"))


def test_a_reply_with_only_in_reply_to_joins_its_stored_parents_thread(alice: Any, amara: Contact):
    first = [mail("r1@x"), mail("r2@x", in_reply_to="r1@x", references="<r1@x>")]
    email_ingest(actor=alice, source=Source.UPLOAD, raw_messages=first, contacts=visible_contacts(alice))

    # r3 answers r2 without References; r4 answers a message that was never logged.
    later = [mail("r3@x", in_reply_to="r2@x"), mail("r4@x", in_reply_to="unknown@x")]
    email_ingest(actor=alice, source=Source.UPLOAD, raw_messages=later, contacts=visible_contacts(alice))

    assert thread_keys(amara) == {"r1@x": "r1@x", "r2@x": "r1@x", "r3@x": "r1@x", "r4@x": "unknown@x"}


def test_a_chain_of_in_reply_to_only_replies_in_one_mbox_shares_the_roots_key(alice: Any, amara: Contact):
    # r3 comes before its parent r2, which itself has no References either.
    raw = [mail("r3@x", in_reply_to="r2@x"), mail("r1@x"), mail("r2@x", in_reply_to="r1@x")]

    email_ingest(actor=alice, source=Source.UPLOAD, raw_messages=raw, contacts=visible_contacts(alice))

    assert thread_keys(amara) == {"r1@x": "r1@x", "r2@x": "r1@x", "r3@x": "r1@x"}


def test_a_future_date_is_capped_at_the_time_of_logging_and_kept_in_the_payload(alice: Any, amara: Contact):
    before = timezone.now()
    raw = [mail("past@x"), mail("future@x", date="Fri, 1 Jan 2100 09:00:00 +0000")]

    email_ingest(actor=alice, source=Source.UPLOAD, raw_messages=raw, contacts=visible_contacts(alice))

    future = Activity.objects.get(contact=amara, external_id="future@x")
    assert before <= future.occurred_at <= timezone.now()
    assert future.payload["date_header"] == "2100-01-01T09:00:00+00:00"
    past = Activity.objects.get(contact=amara, external_id="past@x")
    assert past.occurred_at == datetime(2024, 4, 1, 10, tzinfo=UTC)
    amara.refresh_from_db()
    assert amara.last_inbound_at == amara.last_contacted_at == future.occurred_at


def ingest_bytes(user: Any, data: bytes) -> Any:
    return email_ingest(
        actor=user, source=Source.UPLOAD, raw_messages=mbox_messages(data), contacts=visible_contacts(user)
    )


# --- The batch recorder -------------------------------------------------------------------------


def test_activity_record_many_dedupes_sanitizes_and_starts_the_reply_clock(alice: Any, amara: Contact):
    from contacts.services.timeline import activity_record_many

    def email(external_id: str, day: int, direction: str) -> Activity:
        return Activity(
            contact=amara,
            kind="email",
            occurred_at=datetime(2024, 3, day, tzinfo=UTC),
            direction=direction,
            external_id=external_id,
            body_html="<p>hi</p><script>x()</script>",
        )

    created = activity_record_many([email("a", 1, "in"), email("b", 3, "out"), email("a", 1, "in")])
    again = activity_record_many([email("a", 1, "in"), email("c", 2, "in")])

    assert [activity.external_id for activity in created] == ["a", "b"]
    assert [activity.external_id for activity in again] == ["c"]
    assert Activity.objects.get(external_id="a").body_html == "<p>hi</p>"
    amara.refresh_from_db()
    assert amara.last_outbound_at == datetime(2024, 3, 3, tzinfo=UTC)
    assert amara.last_inbound_at == datetime(2024, 3, 2, tzinfo=UTC)
    assert amara.awaiting_reply
    assert amara.reply_due_at is not None  # the reminders' awaiting-reply clock started from "b"


def test_recording_queries_do_not_grow_with_the_messages_of_one_contact(
    alice: Any, amara: Contact, django_assert_max_num_queries: Any
):
    def mbox(count: int) -> list[bytes]:
        return [
            f"From: amara.okafor@northwind.example\r\nMessage-ID: <n{count}.{i}@x>\r\n"
            f"Date: Mon, 1 Apr 2024 10:{i % 60:02d}:00 +0000\r\n\r\nhi\r\n".encode()
            for i in range(count)
        ]

    # Per chunk: addresses, team settings, existing Message-IDs, one INSERT, the contact's times,
    # the reminders' clocks (read, update, close nudges), and the transactions' savepoints.
    for count in (5, 200):
        with django_assert_max_num_queries(16):
            email_ingest(actor=alice, source="upload", raw_messages=mbox(count), contacts=visible_contacts(alice))


def test_finding_the_stored_parents_of_replies_is_one_query_per_chunk(
    alice: Any, amara: Contact, django_assert_max_num_queries: Any
):
    for count in (3, 100):
        parents = [mail(f"p{count}.{i}@x", references=f"<root{count}@x>") for i in range(count)]
        email_ingest(actor=alice, source="upload", raw_messages=parents, contacts=visible_contacts(alice))
        replies = [mail(f"c{count}.{i}@x", in_reply_to=f"p{count}.{i}@x") for i in range(count)]

        # The budget of plain messages above (16), plus the one lookup of the replies' parents.
        with django_assert_max_num_queries(17):
            email_ingest(actor=alice, source="upload", raw_messages=replies, contacts=visible_contacts(alice))

        keys = thread_keys(amara)
        assert {keys[f"c{count}.{i}@x"] for i in range(count)} == {f"root{count}@x"}


def test_recording_for_many_contacts_sets_each_ones_times_and_clocks_in_constant_statements(
    alice: Any, amara: Contact, django_assert_max_num_queries: Any
):
    from contacts.models import Reminder
    from tests.factories import ReminderFactory

    def conversation(count: int) -> tuple[list[Contact], list[bytes]]:
        people = [
            ContactFactory(team=amara.team, owner=alice, cadence_days=30, email=f"p{count}.{i}@client.example")
            for i in range(count)
        ]
        raw = []
        for i in range(count):
            # We write on day 1; every other person answers on day 2.
            raw.append(
                f"From: sam@ourco.example\r\nTo: p{count}.{i}@client.example\r\nMessage-ID: <o{count}.{i}@x>\r\n"
                f"Date: Mon, 1 Apr 2024 10:00:00 +0000\r\n\r\nhi\r\n".encode()
            )
            if i % 2:
                raw.append(
                    f"From: p{count}.{i}@client.example\r\nMessage-ID: <i{count}.{i}@x>\r\n"
                    f"Date: Tue, 2 Apr 2024 10:00:00 +0000\r\n\r\nyes\r\n".encode()
                )
        return people, raw

    # Whatever the number of contacts: the actor's roles and teams (the scope), then per chunk the
    # addresses, team settings, existing Message-IDs, one INSERT, one UPDATE of the times, the
    # reminders' clocks (read, one UPDATE, open nudges), closing the answered nudge (UPDATE, one
    # INSERT of its timeline row), and the transactions' savepoints (8).
    for count in (3, 40):
        people, raw = conversation(count)
        nudged = ReminderFactory(contact=people[1], assignee=alice, kind=Reminder.Kind.CADENCE)
        untouched = ReminderFactory(contact=people[0], assignee=alice, kind=Reminder.Kind.MANUAL)
        with django_assert_max_num_queries(22):
            email_ingest(actor=alice, source="upload", raw_messages=raw, contacts=visible_contacts(alice))

        nudged.refresh_from_db()
        untouched.refresh_from_db()
        assert nudged.status == Reminder.Status.DONE  # the reply answered the keep-in-touch nudge
        assert untouched.status == Reminder.Status.OPEN
        for i, person in enumerate(people):
            person.refresh_from_db()
            sent, answered = datetime(2024, 4, 1, 10, tzinfo=UTC), datetime(2024, 4, 2, 10, tzinfo=UTC)
            assert person.last_outbound_at == sent
            assert person.last_inbound_at == (answered if i % 2 else None)
            assert person.last_contacted_at == (answered if i % 2 else sent)
            assert person.cadence_due_at == person.last_contacted_at + timedelta(days=30)
            assert person.reply_due_at == (None if i % 2 else sent + timedelta(days=3))
