"""Encodings, delimiters and hostile or broken files: good rows import, bad ones are reported."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError

from contacts.importing.detect import detect
from contacts.models import Contact, ImportJob
from contacts.services.imports import import_preview
from tests.contacts.importing import contact_named, fixture_bytes, methods_of, run_import

pytestmark = pytest.mark.django_db


def _report(job: ImportJob) -> list[list[str]]:
    return list(csv.reader(io.StringIO(job.error_report)))[1:]


def test_windows_1252_file(alice, team) -> None:
    data = fixture_bytes("linkedin_connections.csv").decode("utf-8").encode("cp1252")
    assert detect(data).encoding == "cp1252"

    job = run_import(alice, team, "connections.csv", data)

    assert job.counts == {"create": 6, "skip": 1}
    jose = contact_named(team, "José García López")
    assert jose.title == "VP Sales – EMEA"  # noqa: RUF001 - the file's en dash
    assert contact_named(team, "Lukas Brandt").organization.name == "Brandt & Söhne GmbH"


def test_utf8_with_byte_order_mark(alice, team) -> None:
    data = b"\xef\xbb\xbf" + fixture_bytes("google_contacts.csv")
    detected = detect(data)
    assert (detected.format, detected.encoding, detected.headers[0]) == ("google", "utf-8-sig", "First Name")

    job = run_import(alice, team, "google.csv", data)

    assert job.counts == {"create": 3, "organization": 1}
    assert contact_named(team, "Zoë Ålander").methods.get().normalized == "zoe.alander@mail.example"


def test_semicolon_delimited_outlook_export(alice, team) -> None:
    rows = list(csv.reader(io.StringIO(fixture_bytes("outlook_contacts.csv").decode(), newline="")))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode("cp1252")
    detected = detect(data)
    assert (detected.format, detected.delimiter) == ("outlook", ";")

    job = run_import(alice, team, "outlook.csv", data)

    assert job.counts == {"create": 2}
    assert methods_of(contact_named(team, "Tim Berners-Lee"), "email")[1] == ("tbl@inrupt.example", "", False)


def test_utf16_excel_unicode_text(alice, team) -> None:
    data = "Name\tEmail\nÅsa Berg\tasa@berg.example\n".encode("utf-16")

    job = run_import(alice, team, "unicode.txt", data)

    assert job.counts == {"create": 1}
    assert contact_named(team, "Åsa Berg").methods.get().normalized == "asa@berg.example"


def test_a_binary_file_is_refused_with_a_reason(alice, team) -> None:
    with pytest.raises(ValidationError, match="not a text file"):
        import_preview(actor=alice, team=team, file_name="photo.png", data=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert not ImportJob.objects.exists()


def test_a_file_with_only_a_header_says_there_are_no_rows(alice, team) -> None:
    with pytest.raises(ValidationError, match="no rows to import"):
        import_preview(actor=alice, team=team, file_name="empty.csv", data=b"First Name,Last Name,Email\r\n")
    with pytest.raises(ValidationError, match="empty"):
        import_preview(actor=alice, team=team, file_name="empty.csv", data=b"  \n")


def test_a_file_over_the_size_limit_is_refused(alice, team, settings) -> None:
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="larger than"):
        import_preview(actor=alice, team=team, file_name="big.csv", data=b"Name,Email\n" + b"a,b@c.example\n" * 10)


def test_a_10_mb_field_is_a_row_error_and_the_other_rows_import(alice, team) -> None:
    data = (
        b"Name,Email,Notes\n"
        + b'Ann Huge,ann@huge.example,"'
        + b"x" * (10 * 1024 * 1024)
        + b'"\n'
        + b"Bob Fine,bob@fine.example,ok\n"
    )

    job = run_import(alice, team, "huge.csv", data)

    assert job.counts == {"create": 1, "invalid": 1}
    assert _report(job) == [["2", "Invalid", "Notes: too long (10,485,760 characters; at most 20,000)."]]
    assert list(Contact.objects.values_list("display_name", flat=True)) == ["Bob Fine"]


def test_a_csv_cut_off_mid_row_imports_the_complete_rows(alice, team) -> None:
    whole = fixture_bytes("google_contacts.csv")
    data = whole[: whole.index(b"zoe.alander")]  # in the middle of the last row

    job = run_import(alice, team, "cut.csv", data)

    assert job.counts == {"create": 2, "organization": 1, "invalid": 1}
    assert _report(job) == [["8", "Invalid", "The file ends in the middle of this row: it looks cut off."]]
    assert not Contact.objects.filter(first_name="Zoë").exists()


def test_a_vcard_file_cut_off_mid_card_imports_the_complete_cards(alice, team) -> None:
    whole = fixture_bytes("apple_contacts.vcf")
    data = whole[: whole.index(b"TEL;type=WORK")]  # inside Sabine's card

    job = run_import(alice, team, "cut.vcf", data)

    assert job.counts == {"create": 1, "invalid": 1}
    assert _report(job) == [["24", "Invalid", "This card has no END:VCARD line (the file may be cut off)."]]
    assert list(Contact.objects.values_list("display_name", flat=True)) == ["Kenji Nakamura"]


def test_invalid_rows_are_reported_with_their_line_and_the_good_ones_import(alice, team) -> None:
    data = (
        b"First Name,Last Name,E-mail,Phone\n"
        b"Ann,Able,not-an-email,\n"
        b",,,\n"  # blank: skipped silently
        b",,,+44 20 7946 0000\n"  # nothing to name the person by
        b"Cy,Cole,cy@cole.example,12\n"  # a phone too short is dropped, the row stays
        b"Dee,Dunn,CY@cole.example,\n"  # the same address as line 5
    )

    job = run_import(alice, team, "mixed.csv", data)

    assert job.counts == {"create": 1, "invalid": 2, "skip": 1}
    assert _report(job) == [
        ["2", "Invalid", "“not-an-email” is not a valid email address."],
        ["4", "Invalid", "The row has no name, email address or organization."],
        ["6", "Skip", "Duplicate of line 5 in this file."],
    ]
    cy = contact_named(team, "Cy Cole")
    assert methods_of(cy, "phone") == []


def test_values_that_look_like_formulas_are_stored_as_text(alice, team) -> None:
    data = b'Name,Email,Title\n"=HYPERLINK(""http://evil.example"",""x"")",eve@evil.example,@SUM(A1)\n'

    job = run_import(alice, team, "formula.csv", data)

    assert job.counts == {"create": 1}
    eve = Contact.objects.get()
    assert (eve.display_name, eve.title) == ('=HYPERLINK("http://evil.example","x")', "@SUM(A1)")
