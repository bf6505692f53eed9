"""The import through its pages: upload, preview, mapping, confirm, progress, error report, undo."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consent.models import Suppression
from consent.suppression import identifier_digest
from contacts.models import Contact, ImportedRecord, ImportJob, ImportMapping, Organization
from contacts.selectors_imports import import_traces_export
from contacts.services import imports as services
from contacts.services.contacts import contact_update
from contacts.services.merge import contact_merge
from contacts.services.timeline import activity_record
from socialcrm.audit.models import AuditEvent
from tests.contacts.importing import contact_named, fixture_bytes, run_import
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _upload(client: Any, name: str, data: bytes, team: Any) -> Any:
    return client.post(reverse("contacts:import"), {"file": SimpleUploadedFile(name, data), "team": team.pk})


def test_upload_shows_a_preview_and_imports_nothing_yet(alice, team, client_for) -> None:
    ContactFactory(team=team, first_name="Mei", last_name="Tanaka", email="MEI@tanaka-design.example")
    client = client_for(alice)

    response = _upload(client, "linkedin_connections.csv", fixture_bytes("linkedin_connections.csv"), team)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:import_detail", kwargs={"pk": job.pk})
    page = client.get(response["Location"]).content.decode()
    assert "LinkedIn connections file into Northwind sales" in page
    assert "Duplicate of line 5 in this file." in page
    # Mei is in the team already (matched on her normalized email): her row would update her.
    assert "Already in the team as Mei Tanaka: adds organization, notes, website." in page
    assert job.counts == {"create": 5, "update": 1, "skip": 1}
    assert Contact.objects.count() == 1


def test_confirming_runs_the_import_and_shows_the_summary(
    alice, team, client_for, django_capture_on_commit_callbacks
) -> None:
    client = client_for(alice)
    _upload(client, "linkedin_connections.csv", fixture_bytes("linkedin_connections.csv"), team)
    job = ImportJob.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("contacts:import_commit", kwargs={"pk": job.pk}))

    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.counts) == ("done", 7, {"create": 6, "skip": 1})
    page = client.get(reverse("contacts:import_detail", kwargs={"pk": job.pk})).content.decode()
    assert "Imported" in page
    assert "Undo this import" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    report = client.get(reverse("contacts:import_errors", kwargs={"pk": job.pk}))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert report.content.decode().splitlines() == ["line,result,reason", "10,Skip,Duplicate of line 5 in this file."]
    # Who imported what and when: the job, and the audit trail (ids only).
    event = AuditEvent.objects.get(action="contacts.imported")
    assert (event.actor_id, event.object_type, event.object_id) == (alice.pk, "import_job", str(job.pk))
    # Confirming twice queues nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contacts:import_commit", kwargs={"pk": job.pk}))
    assert Contact.objects.count() == 6


def test_a_running_import_polls_its_progress_every_second(alice, team, client_for) -> None:
    job = services.import_preview(
        actor=alice, team=team, file_name="l.csv", data=fixture_bytes("linkedin_connections.csv")
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, processed_rows=3)
    client = client_for(alice)

    page = client.get(reverse("contacts:import_detail", kwargs={"pk": job.pk})).content.decode()
    fragment = client.get(reverse("contacts:import_progress", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true")
    no_js = client.get(reverse("contacts:import_progress", kwargs={"pk": job.pk}))

    assert 'hx-trigger="every 1s"' in page
    assert '<progress max="100" value="42"' in page
    assert "3 of 7 rows (42%)" in page
    assert ">Refresh</a>" in page  # without JavaScript
    assert fragment.status_code == 200
    assert "3 of 7 rows" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert no_js.status_code == 302


def test_progress_is_saved_after_every_batch(alice, team, monkeypatch) -> None:
    job = services.import_preview(
        actor=alice, team=team, file_name="l.csv", data=fixture_bytes("linkedin_connections.csv")
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    seen: list[int] = []
    write = services._Writer.write

    def spy(self: Any, batch: Any) -> None:
        seen.append(ImportJob.objects.get(pk=job.pk).processed_rows)
        write(self, batch)

    monkeypatch.setattr(services._Writer, "write", spy)

    services.import_run(job_id=job.pk, batch_size=2)

    assert seen == [0, 2, 4, 6]
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows) == ("done", 7, 7)
    # A redelivered task finds the job claimed and does nothing.
    assert services.import_run(job_id=job.pk) is None


def test_generic_csv_asks_for_the_columns_and_remembers_the_choice(alice, bob, team, client_for) -> None:
    data = "Voller Name;Mail;Firma;Bemerkung\nAnna Graf;anna@graf.example;Graf AG;VIP\n".encode("cp1252")
    client = client_for(alice)
    _upload(client, "export.csv", data, team)
    job = ImportJob.objects.get()
    assert job.format == "csv"
    # Guessed from the column names, except "Bemerkung".
    assert job.mapping == {"Voller Name": "name", "Mail": "email", "Firma": "organization", "Bemerkung": ""}
    page = client.get(reverse("contacts:import_detail", kwargs={"pk": job.pk})).content.decode()
    assert "What does each column hold?" in page

    response = client.post(
        reverse("contacts:import_mapping", kwargs={"pk": job.pk}),
        {"column_0": "name", "column_1": "email", "column_2": "organization", "column_3": "notes"},
    )

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.counts == {"create": 1}
    assert ImportMapping.objects.get(user=alice).mapping["Bemerkung"] == "notes"
    # Alice's next file with these columns starts from her choice; Bob's from the guess.
    _upload(client, "again.csv", data, team)
    _upload(client_for(bob), "bobs.csv", data, team)
    again, bobs = ImportJob.objects.order_by("-id")[:2][::-1]
    assert again.mapping["Bemerkung"] == "notes"
    assert bobs.mapping["Bemerkung"] == ""


def test_a_mapping_without_a_name_email_or_organization_is_refused(alice, team, client_for) -> None:
    client = client_for(alice)
    _upload(client, "x.csv", b"A,B\n1,2\n", team)
    job = ImportJob.objects.get()

    response = client.post(reverse("contacts:import_mapping", kwargs={"pk": job.pk}), {"column_0": "notes"})

    assert response.status_code == 422
    assert "Map at least one column to a name" in response.content.decode()


def test_rows_on_the_suppression_list_are_skipped_saying_so(alice, team) -> None:
    Suppression.objects.create(digest=identifier_digest("priya.raman@fabrikam.example"))

    job = run_import(alice, team, "linkedin_connections.csv")

    assert job.counts == {"create": 5, "skip": 2}
    assert "9,Skip,On the suppression list: this person asked to be erased." in job.error_report
    assert not Contact.objects.filter(display_name="Priya Raman").exists()


def test_undo_deletes_what_the_import_created_unless_changed_since(alice, team, client_for) -> None:
    existing = ContactFactory(team=team, first_name="Mei", last_name="Tanaka", email="mei@tanaka-design.example")
    job = run_import(alice, team, "linkedin_connections.csv")
    amara = contact_named(team, "Amara Okafor")
    contact_update(
        actor=alice,
        contact=amara,
        first_name="Amara",
        last_name="Okafor",
        title="Chief Procurement Officer",
        organization=amara.organization,
        emails=["amara.okafor@northwind.example"],
    )
    activity_record(contact=contact_named(team, "Olu"), kind="call", actor=alice, subject="Called")

    response = client_for(alice).post(reverse("contacts:import_undo", kwargs={"pk": job.pk}))

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE
    assert job.undo_summary == {
        "deleted": 3,
        "kept": 2,
        "kept_lines": [5, 11],
        "already_gone": 0,
        "reverted": 1,
        "updated_left": 0,
        "organizations_deleted": 4,
    }
    assert sorted(Contact.objects.values_list("display_name", flat=True)) == ["Amara Okafor", "Mei Tanaka", "Olu"]
    # Mei existed before: what the import added to her is gone again.
    existing.refresh_from_db()
    assert (existing.organization, existing.notes) == (None, "")
    assert not existing.methods.filter(kind="website").exists()
    # Organizations still in use stay (Northwind: Amara's); Tanaka Design, Mei's by the import, goes.
    assert sorted(Organization.objects.values_list("name", flat=True)) == ["Northwind Traders"]
    assert job.content == ""
    page = client_for(alice).get(reverse("contacts:import_detail", kwargs={"pk": job.pk})).content.decode()
    assert "2 contacts were kept because they changed after the import" in page
    assert AuditEvent.objects.filter(action="contacts.import_undone", object_id=str(job.pk)).exists()


def test_undo_happens_once(alice, team) -> None:
    job = run_import(alice, team, "contacts_v4.vcf")
    services.import_undo(actor=alice, job=job)

    with pytest.raises(services.ValidationError, match="once"):
        services.import_undo(actor=alice, job=job)
    assert not ImportedRecord.objects.filter(job=job, contact__isnull=False).exists()


def test_charlie_cannot_see_import_into_or_undo_alices_team(alice, charlie, team, other_team, client_for) -> None:
    job = run_import(alice, team, "contacts_v4.vcf")
    client = client_for(charlie)

    for name, method in [
        ("contacts:import_detail", "get"),
        ("contacts:import_errors", "get"),
        ("contacts:import_commit", "post"),
        ("contacts:import_undo", "post"),
        ("contacts:import_mapping", "post"),
    ]:
        assert getattr(client, method)(reverse(name, kwargs={"pk": job.pk})).status_code == 404, name
    # The upload form offers only his own team; another team's id is an invalid choice.
    response = _upload(client, "x.vcf", fixture_bytes("contacts_v4.vcf"), team)
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert "Northwind sales" not in client.get(reverse("contacts:import")).content.decode()
    assert ImportJob.objects.filter(team=other_team).count() == 0
    assert Contact.objects.filter(team=team).count() == 1


def test_personal_data_export_and_erasure_cover_import_and_merge_traces(alice, team) -> None:
    run_import(alice, team, "contacts_v4.vcf")
    ngozi = Contact.objects.get()
    duplicate = ContactFactory(team=team)
    contact_merge(actor=alice, survivor=ngozi, merged=duplicate, choices={})

    exported = import_traces_export(ngozi)
    services.import_traces_erase(ngozi)

    assert [(row["job__file_name"], row["action"], row["line"]) for row in exported["imports"]] == [
        ("contacts_v4.vcf", "created", 1)
    ]
    assert exported["merged_contact_ids"] == [duplicate.pk]
    assert import_traces_export(ngozi) == {"imports": [], "merged_contact_ids": []}


def test_the_preview_page_reads_the_plan_stored_at_upload(alice, team, client_for, monkeypatch) -> None:
    rows = "".join(f"Person {n},p{n}@x.example\n" for n in range(250))
    data = f"Name,Email\n{rows}Bad,not-an-email\nPerson 3,p3@x.example\n".encode()
    job = services.import_preview(actor=alice, team=team, file_name="big.csv", data=data)
    client = client_for(alice)
    planned: list[int] = []
    real = services.planned_batches

    def counting(*args: Any, **kwargs: Any) -> Any:
        planned.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "planned_batches", counting)

    page = client.get(reverse("contacts:import_detail", kwargs={"pk": job.pk})).content.decode()

    assert planned == []  # not planned again: the counts and rows are the job's
    text = " ".join(page.split())
    assert "200 of 252 rows, those skipped or invalid first." in text
    # The two problem rows, at the end of the file, are listed first.
    assert [row["line"] for row in job.preview_rows[:3]] == [252, 253, 2]
    assert (job.counts, job.total_rows) == ({"create": 250, "invalid": 1, "skip": 1}, 252)
    assert text.index("not-an-email") < text.index("Person 0")


def test_the_preview_is_planned_again_when_the_team_changed(alice, team, client_for) -> None:
    data = b"Name,Email\nAnn Able,ann@x.example\n"
    job = services.import_preview(actor=alice, team=team, file_name="ann.csv", data=data)
    assert job.counts == {"create": 1}
    ContactFactory(team=team, first_name="Ann", last_name="Able", email="ann@x.example")

    page = client_for(alice).get(reverse("contacts:import_detail", kwargs={"pk": job.pk}))

    job.refresh_from_db()
    # Ann is known now, with nothing new in the file about her.
    assert job.counts == {"skip": 1}
    assert job.preview_rows[0]["action"] == "skip"
    assert page.status_code == 200
