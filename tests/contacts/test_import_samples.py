"""Every sample export (tests/fixtures/import/, copies of the shared samples) imported with exact results."""

from __future__ import annotations

import pytest

from contacts.importing.detect import detect
from contacts.models import Activity, Contact, ImportedRecord, ImportJob, Organization
from tests.contacts.importing import contact_named, fixture_bytes, methods_of, run_import, tags_of

pytestmark = pytest.mark.django_db


def _names(team: object) -> list[str]:
    return sorted(Contact.objects.filter(team=team).values_list("display_name", flat=True))


def _error_lines(job: ImportJob) -> list[list[str]]:
    return [line.split(",", 2) for line in job.error_report.strip().splitlines()[1:]]


def test_formats_are_recognized() -> None:
    found = {
        name: (detect(fixture_bytes(name)).format, detect(fixture_bytes(name)).skip_lines)
        for name in (
            "linkedin_connections.csv",
            "google_contacts.csv",
            "outlook_contacts.csv",
            "apple_contacts.vcf",
            "contacts_v4.vcf",
        )
    }
    assert found == {
        "linkedin_connections.csv": ("linkedin", 3),
        "google_contacts.csv": ("google", 0),
        "outlook_contacts.csv": ("outlook", 0),
        "apple_contacts.vcf": ("vcard", 0),
        "contacts_v4.vcf": ("vcard", 0),
    }


def test_linkedin_connections(alice, team) -> None:
    job = run_import(alice, team, "linkedin_connections.csv")

    assert job.status == ImportJob.Status.DONE
    assert job.counts == {"create": 6, "skip": 1}
    assert (job.total_rows, job.processed_rows) == (7, 7)
    assert _names(team) == ["Amara Okafor", "José García López", "Lukas Brandt", "Mei Tanaka", "Olu", "Priya Raman"]
    # The duplicate row (line 10) repeats line 5, after the three lines of notes and the header.
    assert _error_lines(job) == [["10", "Skip", "Duplicate of line 5 in this file."]]
    amara = contact_named(team, "Amara Okafor")
    assert (amara.first_name, amara.last_name) == ("Amara", "Okafor")
    assert (amara.organization.name, amara.title) == ("Northwind Traders", "Head of Procurement")
    assert methods_of(amara, "email") == [("amara.okafor@northwind.example", "", True)]
    assert methods_of(amara, "website") == [("https://www.linkedin.com/in/amara-okafor-4b1a2c", "linkedin", True)]
    assert amara.notes == "LinkedIn connection since 2024-03-14"
    assert amara.owner == alice
    # Mixed case is normalized for matching; what the file said is kept for display.
    priya = contact_named(team, "Priya Raman")
    assert methods_of(priya, "email") == [("priya.raman@fabrikam.example", "", True)]
    assert priya.methods.get(kind="email").value == "PRIYA.RAMAN@Fabrikam.example"
    lukas = contact_named(team, "Lukas Brandt")
    assert (lukas.organization.name, lukas.title) == ("Brandt & Söhne GmbH", "Geschäftsführer")
    assert methods_of(lukas, "email") == []
    jose = contact_named(team, "José García López")
    assert (jose.first_name, jose.last_name, jose.title) == ("José", "García López", "VP Sales – EMEA")  # noqa: RUF001
    assert contact_named(team, "Mei Tanaka").title == "Founder, Creative Director"
    olu = contact_named(team, "Olu")
    assert (olu.first_name, olu.last_name, olu.organization) == ("Olu", "", None)
    assert sorted(Organization.objects.filter(team=team).values_list("name", flat=True)) == [
        "Brandt & Söhne GmbH",
        "Contoso Ltd.",
        "Fabrikam",
        "Northwind Traders",
        "Tanaka Design",
    ]
    assert job.records.filter(action=ImportedRecord.Action.CREATED).count() == 6
    assert job.records.filter(action=ImportedRecord.Action.ORGANIZATION_CREATED).count() == 5
    # Each new contact's timeline says where it came from.
    entry = Activity.objects.get(contact=amara)
    assert (entry.kind, entry.source, entry.subject) == ("system", "import", "Imported from linkedin_connections.csv")


def test_importing_the_same_file_again_creates_nothing(alice, team) -> None:
    run_import(alice, team, "linkedin_connections.csv")
    again = run_import(alice, team, "linkedin_connections.csv")

    # People with an email match on it, the others on their LinkedIn profile URL.
    assert again.counts == {"skip": 7}
    assert Contact.objects.filter(team=team).count() == 6
    assert Organization.objects.filter(team=team).count() == 5
    assert ["6", "Skip", "Already in the team as Lukas Brandt; nothing new."] in _error_lines(again)


def test_google_contacts(alice, team) -> None:
    job = run_import(alice, team, "google_contacts.csv")

    assert job.counts == {"create": 3, "organization": 1}
    assert _names(team) == ["Hannah Schmidt", "Sam Lee", "Zoë Ålander"]
    hannah = contact_named(team, "Hannah Schmidt")
    assert (hannah.organization.name, hannah.title, hannah.location) == (
        "Blue Yonder Airlines",
        "Travel Manager",
        "Berlin, Germany",
    )
    # "* Work" marks the primary address.
    assert methods_of(hannah, "email") == [
        ("hannah.schmidt@blueyonder.example", "work", True),
        ("hannah.s@mail.example", "home", False),
    ]
    assert methods_of(hannah, "phone") == [("+4915123456789", "mobile", True), ("+49301234567", "work", False)]
    assert methods_of(hannah, "website") == [("https://hannah.example", "profile", True)]
    assert hannah.notes == "Met at the Berlin trade fair.\nPrefers email over phone.\n\nBirthday: 1985-04-12"
    # Labels are tags, except Google's own "myContacts".
    assert tags_of(hannah) == ["Clients"]
    sam = contact_named(team, "Sam Lee")
    # Two values in one cell (" ::: "): the first is the primary one.
    assert methods_of(sam, "email") == [
        ("sam.lee@adventure-works.example", "work", True),
        ("sam@lee.example", "work", False),
    ]
    assert methods_of(sam, "phone") == [("+14155550134", "mobile", True)]
    assert tags_of(sam) == ["Conference 2024", "Prospects"]
    assert (sam.organization.name, sam.title) == ("Adventure Works", "CTO")
    zoe = contact_named(team, "Zoë Ålander")
    assert (zoe.first_name, zoe.last_name) == ("Zoë", "Ålander")
    assert zoe.notes == "Birthday: 7 March"  # --03-07: no year
    assert tags_of(zoe) == ["Friends"]
    # The company-only row is an organization, not a person.
    wide_world = Organization.objects.get(team=team, name="Wide World Importers")
    assert wide_world.domain == "wideworldimporters.example"
    assert wide_world.contacts.count() == 0
    assert "Email: info@wideworldimporters.example" in wide_world.notes


def test_outlook_contacts(alice, team) -> None:
    job = run_import(alice, team, "outlook_contacts.csv")

    assert job.counts == {"create": 2}
    grace = contact_named(team, "Grace Hopper")
    assert (grace.organization.name, grace.title, grace.location) == (
        "US Navy",
        "Rear Admiral",
        "Arlington, VA, United States",
    )
    assert methods_of(grace, "email") == [("grace.hopper@navy.example", "", True)]
    assert methods_of(grace, "phone") == [("+12025550101", "work", True)]
    # US date 12/9/1906 is December 9th.
    assert grace.notes == "Inventor of the first compiler.\n\nBirthday: 1906-12-09"
    tim = contact_named(team, "Tim Berners-Lee")
    assert methods_of(tim, "email") == [("timbl@w3.example", "", True), ("tbl@inrupt.example", "", False)]
    assert methods_of(tim, "phone") == [("+447700900123", "mobile", True)]
    assert methods_of(tim, "website") == [("https://www.w3.example/People/Berners-Lee", "", True)]
    assert tim.notes == ""  # 0/0/00 is Outlook's empty date


def test_apple_contacts_vcard_3(alice, team) -> None:
    job = run_import(alice, team, "apple_contacts.vcf")

    assert job.counts == {"create": 2, "organization": 1}
    kenji = contact_named(team, "Kenji Nakamura")
    assert (kenji.first_name, kenji.last_name) == ("Kenji", "Nakamura")
    assert (kenji.organization.name, kenji.title) == ("Litware Inc.", "Principal Engineer")
    assert kenji.location == "Chiyoda-ku, Tokyo, Japan"
    assert methods_of(kenji, "email") == [
        ("kenji.nakamura@litware.example", "work", True),
        ("kenji@nakamura.example", "home", False),
    ]
    assert methods_of(kenji, "phone") == [("+819012345678", "cell", True)]
    # Grouped properties: item2.URL takes its label from item2.X-ABLabel.
    assert methods_of(kenji, "website") == [("https://kenji.nakamura.example", "homepage", True)]
    # A folded X-SOCIALPROFILE line.
    assert methods_of(kenji, "handle") == [("https://social.example/@kenji", "mastodon", True)]
    # Folded NOTE with an escaped semicolon.
    assert kenji.notes == (
        "Met at PyCon JP. Interested in the analytics add-on; follow up after Q3 budget review.\n\nBirthday: 1988-06-21"
    )
    assert tags_of(kenji) == ["Conference 2024", "Prospects"]
    sabine = contact_named(team, "Prof. Dr. Sabine Müller-Lüdenscheidt")
    assert (sabine.first_name, sabine.last_name) == ("Sabine", "Müller-Lüdenscheidt")
    assert sabine.organization.name == "Universität Beispielstadt"
    assert methods_of(sabine, "email") == [("s.mueller@uni-beispielstadt.example", "work", True)]
    # X-ABShowAs:COMPANY: an organization only, no "Reception" person.
    assert not Contact.objects.filter(display_name__startswith="Reception").exists()
    tailspin = Organization.objects.get(team=team, name="Tailspin Toys")
    assert tailspin.domain == "tailspintoys.example"


def test_vcard_4(alice, team) -> None:
    job = run_import(alice, team, "contacts_v4.vcf")

    assert job.counts == {"create": 1}
    ngozi = contact_named(team, "Ngozi Adeyemi")
    # The escaped comma stays part of the name.
    assert (ngozi.organization.name, ngozi.title) == ("Proseware, Inc.", "Partnerships Lead")
    assert methods_of(ngozi, "email") == [("ngozi@proseware.example", "work", True)]
    # TEL;VALUE=uri: the tel: scheme is not part of the number.
    assert methods_of(ngozi, "phone") == [("+2348035550199", "cell", True)]
    assert methods_of(ngozi, "website") == [("https://ngozi.example", "", True)]
    assert methods_of(ngozi, "handle") == [("ngozi@chat.example", "xmpp", True)]


def test_a_later_file_updates_a_known_person_with_what_is_new(alice, team) -> None:
    run_import(alice, team, "linkedin_connections.csv")
    update = (
        b"First Name,Last Name,Email,Phone,Job Title\n"
        b"Amara,Okafor,Amara.Okafor@northwind.example,+44 20 7946 0123,Ignored because she has one\n"
    )
    job = run_import(alice, team, "update.csv", update)

    assert job.counts == {"update": 1}
    amara = contact_named(team, "Amara Okafor")
    assert methods_of(amara, "phone") == [("+442079460123", "", False)]
    assert amara.title == "Head of Procurement"  # filled fields are never overwritten
    assert job.records.get().action == ImportedRecord.Action.UPDATED
