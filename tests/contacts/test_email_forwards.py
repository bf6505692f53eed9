"""Forwards into the dropbox: a teammate's forward is logged as the original it carries.

The samples under tests/fixtures/email/forwards/ are one mail from Amara (Mon 18 Mar 2024,
09:02 CET) forwarded the way each client does it, in English and (``<language>_<client>``)
in the clients' German, French, Spanish, Dutch, Italian and Portuguese, plus hostile and
look-alike messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from django.urls import reverse

from contacts.email.forward_labels import LANGUAGES
from contacts.email.forwards import MAX_DEPTH, Forwarders, originals, quoted_date
from contacts.email.ingest import Source, email_ingest
from contacts.email.parse import parse_message
from contacts.models import Activity, Contact, TeamSettings
from contacts.selectors import visible_contacts
from tests.contacts.mail import SECRET, post_signed, sample
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ORIGINAL_ID = "CAF=pricing.5678@mail.northwind.example"
SENT_AT = datetime(2024, 3, 18, 8, 2, tzinfo=UTC)  # 09:02 CET


@pytest.fixture
def amara(team: Any, alice: Any, bob: Any, mona: Any) -> Contact:
    TeamSettings.objects.update_or_create(team=team, defaults={"own_domains": ["ourco.example"]})
    return ContactFactory(team=team, first_name="Amara", last_name="Okafor", email="amara.okafor@northwind.example")


@pytest.fixture
def dropbox(settings: Any, team: Any, amara: Contact) -> str:
    settings.INBOUND_EMAIL_SECRET = SECRET
    TeamSettings.objects.filter(team=team).update(dropbox_token="f" * 32)
    return reverse("contacts:inbound_email", args=["f" * 32])


def forward(name: str) -> bytes:
    return sample(f"forwards/{name}")


@pytest.mark.parametrize(
    ("name", "sender_name"),
    [
        ("gmail_inline.eml", "Amara Okafor"),
        ("outlook_inline.eml", "Okafor, Amara"),  # from a teammate on another domain (bob@staff.example)
        ("apple_inline.eml", "Amara Okafor"),
    ],
)
def test_an_inline_forward_is_logged_as_the_original(dropbox: str, amara: Contact, name: str, sender_name: str):
    response = post_signed(dropbox, forward(name))

    assert response.status_code == 200
    assert (response.json()["forwards_unwrapped"], response.json()["logged"]) == (1, 1)
    entry = Activity.objects.get(contact=amara)
    assert (entry.direction, entry.subject, entry.source) == ("in", "Pricing question", "dropbox")
    assert entry.occurred_at.replace(second=0) == SENT_AT
    assert entry.payload["from"] == {"name": sender_name, "email": "amara.okafor@northwind.example"}
    assert [address["email"] for address in entry.payload["cc"]] == ["lukas@brandt-soehne.example"]
    assert entry.body.startswith("Hi Alex,\n\nBefore Tuesday")
    assert "For the CRM" not in entry.body and "Forwarded" not in entry.body
    assert entry.body_html == ""  # the forward's HTML (with its script) is the forwarder's, not kept
    assert entry.external_id.endswith("@forwarded")


# Gmail localizes the marker and "From" only; Outlook (under its own Fw: prefix) every label.
LOCALIZED = [
    ("de_gmail_inline.eml", "Amara Okafor"),  # Weitergeleitete Nachricht, "Mo., 18. März 2024 um 09:02 Uhr"
    ("de_outlook_inline.eml", "Okafor, Amara"),  # WG:, Ursprüngliche Nachricht, "Montag, 18. März 2024 09:02"
    ("de_apple_inline.eml", "Amara Okafor"),  # Anfang der weitergeleiteten Nachricht:, "... 09:02:41 MEZ"
    ("fr_thunderbird_inline.eml", "Amara Okafor"),  # Message transféré, "Sujet :", "Pour :", "Copie à :"
    ("fr_outlook_inline.eml", "Okafor, Amara"),  # TR:, Message d'origine, "De\xa0:", "lundi 18 mars 2024 09:02"
    ("es_gmail_inline.eml", "Amara Okafor"),  # Mensaje reenviado, "lun, 18 mar 2024 a las 9:02"
    ("es_outlook_inline.eml", "Okafor, Amara"),  # RV:, Mensaje original, "lunes, 18 de marzo de 2024 9:02"
    ("nl_gmail_inline.eml", "Amara Okafor"),  # Doorgestuurd bericht, "ma 18 mrt 2024 om 09:02"
    ("nl_outlook_inline.eml", "Okafor, Amara"),  # Doorst:, Oorspronkelijk bericht, "maandag 18 maart 2024 09:02"
    ("it_gmail_inline.eml", "Amara Okafor"),  # Messaggio inoltrato, "lun 18 mar 2024 alle ore 09:02"
    ("it_outlook_inline.eml", "Okafor, Amara"),  # I:, Messaggio originale, "lunedì 18 marzo 2024 09:02"
    ("pt_gmail_inline.eml", "Amara Okafor"),  # Mensagem encaminhada, "seg., 18 de mar. de 2024 às 09:02"
    ("pt_outlook_inline.eml", "Okafor, Amara"),  # ENC:, Mensagem original, "segunda-feira, 18 de março ..."
]


@pytest.mark.parametrize(("name", "sender_name"), LOCALIZED)
def test_a_localized_inline_forward_is_logged_as_the_original(
    dropbox: str, amara: Contact, name: str, sender_name: str
):
    response = post_signed(dropbox, forward(name))

    assert (response.json()["forwards_unwrapped"], response.json()["logged"]) == (1, 1)
    entry = Activity.objects.get(contact=amara)
    assert (entry.direction, entry.subject, entry.source) == ("in", "Pricing question", "dropbox")
    assert entry.occurred_at.replace(second=0) == SENT_AT
    assert entry.payload["from"] == {"name": sender_name, "email": "amara.okafor@northwind.example"}
    assert [address["email"] for address in entry.payload["to"]] == ["alex.morgan@ourco.example"]
    assert [address["email"] for address in entry.payload["cc"]] == ["lukas@brandt-soehne.example"]
    assert entry.body == (
        "Hi Alex,\n\nBefore Tuesday: could you send the volume pricing for 500 seats? Lukas\n"
        "needs it for the budget round on Thursday.\n\nThanks,\nAmara"
    )


def test_the_same_mail_forwarded_from_clients_in_seven_languages_is_one_entry(dropbox: str, amara: Contact):
    names = ["gmail_inline.eml", "outlook_inline.eml", *(name for name, _ in LOCALIZED)]

    statuses = [post_signed(dropbox, forward(name)).json() for name in names]

    assert [(status["logged"], status["already_logged"]) for status in statuses] == [(1, 0)] + [(0, 1)] * (
        len(names) - 1
    )
    assert Activity.objects.filter(contact=amara).count() == 1


@pytest.mark.parametrize("name", [name for name, _ in LOCALIZED])
def test_a_localized_forward_from_a_look_alike_domain_is_not_unwrapped(dropbox: str, amara: Contact, name: str):
    raw = forward(name)
    for forwarder in (b"alex.morgan@ourco.example>\r\nTo:", b"bob@staff.example", b"mona.meyer@ourco.example"):
        raw = raw.replace(forwarder, forwarder.replace(b"example", b"example.invoices-portal.test", 1))

    response = post_signed(dropbox, raw)

    assert (response.json()["forwards_unwrapped"], response.json()["unmatched"]) == (0, 1)
    assert not Activity.objects.exists()


def test_a_german_outlook_reply_quoting_the_mail_it_answers_is_not_unwrapped(dropbox: str, amara: Contact):
    # "AW:" is a German reply: Outlook quotes the mail it answers below the same marker.
    raw = forward("de_outlook_inline.eml").replace(b"Subject: WG: Pricing", b"Subject: AW: Pricing")

    response = post_signed(dropbox, raw)

    assert (response.json()["forwards_unwrapped"], response.json()["unmatched"]) == (0, 1)


def test_a_localized_date_that_cannot_be_read_takes_the_forwards_date(dropbox: str, amara: Contact):
    raw = forward("de_outlook_inline.eml").replace(b"Montag, 18. M=C3=A4rz 2024 09:02", b"gestern Vormittag")

    post_signed(dropbox, raw)

    assert Activity.objects.get(contact=amara).occurred_at == datetime(2024, 3, 18, 9, 41, tzinfo=UTC)


def test_no_header_label_stands_for_two_fields_across_languages():
    # The labels are read as one table (Gmail mixes languages): "De" must be From in every language.
    fields: dict[str, set[str]] = {}
    for language in LANGUAGES:
        for label, name in language.headers.items():
            fields.setdefault(label, set()).add(name)

    assert {label: names for label, names in fields.items() if len(names) > 1} == {}


def test_the_forwarded_original_keeps_its_attachments(dropbox: str, amara: Contact):
    post_signed(dropbox, forward("gmail_inline.eml"))

    attachments = Activity.objects.get(contact=amara).payload["attachments"]
    assert [(item["name"], item["type"]) for item in attachments] == [("Northwind-RFQ.pdf", "application/pdf")]


def test_three_teammates_forwarding_from_three_clients_make_one_entry(dropbox: str, amara: Contact):
    statuses = [
        post_signed(dropbox, forward(name)).json()
        for name in ("gmail_inline.eml", "outlook_inline.eml", "apple_inline.eml", "forward_of_forward.eml")
    ]

    assert [(status["logged"], status["already_logged"]) for status in statuses] == [(1, 0), (0, 1), (0, 1), (0, 1)]
    assert Activity.objects.filter(contact=amara).count() == 1


def test_a_forward_of_a_forward_logs_the_innermost_original(dropbox: str, amara: Contact):
    post_signed(dropbox, forward("forward_of_forward.eml"))

    entry = Activity.objects.get(contact=amara)
    assert entry.payload["from"]["email"] == "amara.okafor@northwind.example"
    assert "this one is yours" not in entry.body
    assert entry.occurred_at.replace(second=0) == SENT_AT


def test_an_attached_original_keeps_its_message_id_and_meets_its_other_copies(dropbox: str, amara: Contact):
    wrapper = message_from_bytes(forward("attached_rfc822.eml"))
    attached = wrapper.get_payload(1).get_payload(0)  # type: ignore[union-attr]
    assert isinstance(attached, Message)
    # The same mail reached the dropbox in Bcc first.
    post_signed(dropbox, attached.as_bytes(), timestamp=int(datetime.now(UTC).timestamp()) - 1)

    response = post_signed(dropbox, forward("attached_rfc822.eml"))

    assert (response.json()["forwards_unwrapped"], response.json()["already_logged"]) == (1, 1)
    entry = Activity.objects.get(contact=amara)
    assert (entry.external_id, entry.direction) == (ORIGINAL_ID, "in")
    assert entry.occurred_at == datetime(2024, 3, 18, 8, 2, 41, tzinfo=UTC)


def test_a_forwarded_looking_mail_from_a_look_alike_domain_is_not_unwrapped(dropbox: str, amara: Contact):
    response = post_signed(dropbox, forward("hostile_lookalike_forward.eml"))

    assert (response.json()["forwards_unwrapped"], response.json()["unmatched"]) == (0, 1)
    assert not Activity.objects.exists()


def test_a_contacts_own_mail_with_a_forward_block_stays_hers(dropbox: str, amara: Contact):
    post_signed(dropbox, forward("hostile_contact_forward.eml"))

    entry = Activity.objects.get(contact=amara)
    assert (entry.external_id, entry.direction) == ("CAF=discount.9999@mail.northwind.example", "in")
    assert entry.payload["from"]["email"] == "amara.okafor@northwind.example"  # not our CEO


def test_a_forward_from_someone_outside_the_team_is_not_unwrapped(dropbox: str, amara: Contact, charlie: Any):
    # charlie@staff.example sells for another team: his forwards are not this team's word.
    raw = forward("outlook_inline.eml").replace(b"bob@staff.example", b"charlie@staff.example")

    assert post_signed(dropbox, raw).json()["unmatched"] == 1
    assert not Activity.objects.exists()


def test_an_outlook_reply_quoting_the_mail_it_answers_is_the_reply(dropbox: str, amara: Contact):
    response = post_signed(dropbox, forward("outlook_reply_bcc.eml"))

    assert response.json()["forwards_unwrapped"] == 0
    entry = Activity.objects.get(contact=amara)
    assert (entry.direction, entry.subject) == ("out", "RE: Pricing question")
    assert entry.body.startswith("Hi Amara,")


def test_a_forward_sent_to_a_contact_is_mail_to_them(dropbox: str, amara: Contact, team: Any):
    # Alex forwarded Amara's question to Lukas with the dropbox in Bcc: that forward is what happened.
    lukas = ContactFactory(team=team, first_name="Lukas", last_name="Brandt", email="lukas@brandt-soehne.example")
    raw = forward("gmail_inline.eml").replace(b"To: crm-log+7f3a9c@ourco.example", b"To: lukas@brandt-soehne.example")

    response = post_signed(dropbox, raw)

    assert response.json()["forwards_unwrapped"] == 0
    entry = Activity.objects.get(contact=lukas)
    assert (entry.external_id, entry.direction) == ("CAGmail=fwd.alex.1@mail.gmail.com", "out")
    assert not Activity.objects.filter(contact=amara).exists()


def test_uploads_log_a_forward_as_it_is(alice: Any, amara: Contact):
    result = email_ingest(
        actor=alice, source=Source.UPLOAD, raw_messages=[forward("gmail_inline.eml")], contacts=visible_contacts(alice)
    )

    assert (result.forwards_unwrapped, result.unmatched) == (0, 1)


def test_a_chain_of_attached_forwards_is_unwrapped_only_so_deep():
    team_forwarders = Forwarders(frozenset(), frozenset({"ourco.example"}))
    raw = forward("attached_rfc822.eml")
    for level in range(MAX_DEPTH + 3):
        raw = (
            (
                f"From: alex.morgan@ourco.example\r\nSubject: Fwd: level {level}\r\nMIME-Version: 1.0\r\n"
                f'Content-Type: multipart/mixed; boundary="level{level}"\r\n\r\n'
                f"--level{level}\r\nContent-Type: message/rfc822\r\n\r\n"
            ).encode()
            + raw
            + f"\r\n--level{level}--\r\n".encode()
        )

    found = originals(parse_message(raw, keep_forwarded=True), team_forwarders)

    # Levels 0 to MAX_DEPTH + 2: the outermost MAX_DEPTH are unwrapped, the next one is taken whole.
    assert [message.subject for message in found] == ["Fwd: level 2"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mon, Mar 18, 2024 at 9:02\u202fAM", datetime(2024, 3, 18, 8, 2, tzinfo=UTC)),  # Gmail
        ("Monday, March 18, 2024 9:02 AM", datetime(2024, 3, 18, 8, 2, tzinfo=UTC)),  # Outlook
        ("Monday, 18 March 2024 09:02", datetime(2024, 3, 18, 8, 2, tzinfo=UTC)),  # Outlook, UK
        ("18 March 2024 at 09:02:41 CET", datetime(2024, 3, 18, 8, 2, 41, tzinfo=UTC)),  # Apple Mail, UK
        ("March 18, 2024 at 4:02:41 AM GMT-4", datetime(2024, 3, 18, 8, 2, 41, tzinfo=UTC)),  # Apple Mail, US
        ("Mon, 18 Mar 2024 09:02:41 +0100 (CET)", datetime(2024, 3, 18, 8, 2, 41, tzinfo=UTC)),  # Thunderbird
        ("Mo., 18. März 2024 um 09:02\xa0Uhr", datetime(2024, 3, 18, 8, 2, tzinfo=UTC)),  # Gmail, German
        ("18. März 2024 um 09:02:41 MESZ", datetime(2024, 3, 18, 7, 2, 41, tzinfo=UTC)),  # Apple Mail, German
        ("18.03.2024 09:02", datetime(2024, 3, 18, 8, 2, tzinfo=UTC)),
        ("mar. 19 mars 2024 à 09:02", datetime(2024, 3, 19, 8, 2, tzinfo=UTC)),  # "mar." first: mardi
        ("mar, 19 mar 2024 a las 9:02", datetime(2024, 3, 19, 8, 2, tzinfo=UTC)),  # Spanish: martes, then marzo
        ("18 mars 2024 à 09:02:41 UTC+1", datetime(2024, 3, 18, 8, 2, 41, tzinfo=UTC)),  # Apple Mail, French
        ("vr 3 mei 2024 om 14:10", datetime(2024, 5, 3, 13, 10, tzinfo=UTC)),  # Dutch
        ("sáb., 2 de nov. de 2024 às 17:45", datetime(2024, 11, 2, 16, 45, tzinfo=UTC)),  # Portuguese
        ("giovedì 1 agosto 2024 10:00", datetime(2024, 8, 1, 9, 0, tzinfo=UTC)),  # Italian
        ("lundi 18 brumaire 2024 09:02", None),
        ("the day after tomorrow", None),
        ("", None),
    ],
)
def test_quoted_dates_as_clients_print_them(value: str, expected: datetime | None):
    # The forwarder's zone (their forward's Date) applies where the client printed none.
    assert quoted_date(value, datetime(2024, 3, 18, 10, 30, tzinfo=timezone(timedelta(hours=1)))) == expected
