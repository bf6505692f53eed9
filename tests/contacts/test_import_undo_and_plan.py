"""The commit writes the plan stored at upload (planning again only when the team changed),
and undo puts back what an import changed on contacts that were already in the team.
"""

from __future__ import annotations

import gc
import weakref
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from consent.models import Suppression
from consent.suppression import identifier_digest
from contacts.importing.parse import ImportRow, Method
from contacts.importing.plan import Planner, _first_planning
from contacts.models import Contact, ImportJob, ImportPlanBatch, Organization, Tag
from contacts.normalize import normalize_method
from contacts.services import imports as services
from contacts.services.contacts import contact_update
from contacts.services.timeline import activity_record
from tests.contacts.importing import contact_named, fixture_bytes, methods_of, run_import, tags_of
from tests.factories import ContactFactory, ContactMethodFactory

pytestmark = pytest.mark.django_db

UPDATE = (
    b"Name,Email,Phone,Company,Title,Notes,Tags\n"
    b'Mei Tanaka,MEI@tanaka-design.example,+44 20 7946 0018,Tanaka Design,Founder,Prefers email.,"vip, design"\n'
)


def _mei(team: Any) -> Contact:
    mei = ContactFactory(
        team=team,
        first_name="Mei",
        last_name="Tanaka",
        title="",
        notes="Met at a fair.",
        email="mei@tanaka-design.example",
    )
    mei.tags.add(Tag.objects.create(team=team, name="vip"))
    return mei


def _commit(job: ImportJob) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_undo_puts_back_what_the_import_changed_on_an_existing_contact(alice, team, client_for) -> None:
    mei = _mei(team)
    job = run_import(alice, team, "update.csv", UPDATE)
    assert job.counts == {"update": 1}
    mei.refresh_from_db()
    assert (mei.title, mei.organization.name, mei.notes) == (
        "Founder",
        "Tanaka Design",
        "Met at a fair.\n\nPrefers email.",
    )
    assert tags_of(mei) == ["design", "vip"]
    assert methods_of(mei, "phone") == [("+442079460018", "", False)]
    page = client_for(alice).get(reverse("contacts:import_detail", kwargs={"pk": job.pk})).content.decode()
    text = " ".join(page.split())
    assert "put back the 1 existing contacts it updated as they were" in text
    assert "Mei Tanaka: organization, role / title, notes; 1 contact method, 1 tag" in text

    summary = services.import_undo(actor=alice, job=job)

    assert (summary["reverted"], summary["updated_left"], summary["organizations_deleted"]) == (1, 0, 1)
    mei.refresh_from_db()
    assert (mei.title, mei.organization, mei.notes) == ("", None, "Met at a fair.")
    assert tags_of(mei) == ["vip"]
    assert methods_of(mei, "phone") == []
    assert methods_of(mei, "email") == [("mei@tanaka-design.example", "", True)]
    assert not mei.activities.filter(source="import").exists()
    assert not Organization.objects.exists()


def test_undo_leaves_an_updated_contact_someone_changed_since(alice, team) -> None:
    mei, bob_contact = (
        _mei(team),
        ContactFactory(team=team, first_name="Bo", last_name="Lind", title="", email="bo@x.example"),
    )
    data = UPDATE + b"Bo Lind,bo@x.example,,,Buyer,,\n"
    job = run_import(alice, team, "update.csv", data)
    assert job.counts == {"update": 2}
    mei.refresh_from_db()
    contact_update(
        actor=alice,
        contact=mei,
        first_name="Mei",
        last_name="Tanaka",
        title="Founder & CEO",
        organization=mei.organization,
        emails=["mei@tanaka-design.example"],
    )
    activity_record(contact=bob_contact, kind="call", actor=alice, subject="Called")

    summary = services.import_undo(actor=alice, job=job)

    assert (summary["reverted"], summary["updated_left"]) == (0, 2)
    mei.refresh_from_db()
    bob_contact.refresh_from_db()
    assert (mei.title, mei.organization.name) == ("Founder & CEO", "Tanaka Design")
    assert bob_contact.title == "Buyer"
    assert bob_contact.activities.filter(source="import").exists()


def test_the_commit_writes_the_plan_stored_at_upload(alice, team, monkeypatch) -> None:
    job = services.import_preview(
        actor=alice, team=team, file_name="l.csv", data=fixture_bytes("linkedin_connections.csv")
    )
    assert ImportPlanBatch.objects.filter(job=job).count() == 1

    def not_again(self: Any, rows: Any) -> Any:
        raise AssertionError("planned again")

    monkeypatch.setattr(Planner, "plan", not_again)

    job = _commit(job)

    assert (job.status, job.counts) == ("done", {"create": 6, "skip": 1})
    assert contact_named(team, "Amara Okafor").organization.name == "Northwind Traders"
    assert "10,Skip,Duplicate of line 5 in this file." in job.error_report
    assert not ImportPlanBatch.objects.filter(job=job).exists()  # written: dropped


def test_the_commit_plans_again_when_the_team_changed_since_the_preview(alice, team) -> None:
    job = services.import_preview(
        actor=alice, team=team, file_name="l.csv", data=fixture_bytes("linkedin_connections.csv")
    )
    ContactFactory(team=team, first_name="Amara", last_name="Okafor", title="", email="amara.okafor@northwind.example")

    job = _commit(job)

    assert job.counts == {"create": 5, "update": 1, "skip": 1}
    assert Contact.objects.filter(display_name="Amara Okafor").count() == 1
    assert contact_named(team, "Amara Okafor").title == "Head of Procurement"


def test_a_contact_changed_since_planning_is_planned_again_at_the_commit(alice, team) -> None:
    mei = _mei(team)
    later = ContactFactory(team=team)
    job = services.import_preview(actor=alice, team=team, file_name="update.csv", data=UPDATE)
    # A change the team's watermark does not see (another contact is the latest changed):
    # the commit still notices that Mei is not as planned, and keeps her new title.
    Contact.objects.filter(pk=mei.pk).update(title="CEO", updated_at=later.updated_at - timedelta(seconds=1))
    assert services.import_team_watermark(team.pk) == job.planned_against

    job = _commit(job)

    assert job.counts == {"update": 1}
    mei.refresh_from_db()
    assert (mei.title, mei.organization.name) == ("CEO", "Tanaka Design")
    assert job.records.get(action="updated").reverts["fields"] == {"organization_id": None, "notes": "Met at a fair."}


def test_someone_erased_after_the_preview_is_skipped_at_the_commit(alice, team) -> None:
    job = services.import_preview(
        actor=alice, team=team, file_name="l.csv", data=fixture_bytes("linkedin_connections.csv")
    )
    Suppression.objects.create(digest=identifier_digest("priya.raman@fabrikam.example"))

    job = _commit(job)

    assert job.counts == {"create": 5, "skip": 2}
    assert "9,Skip,On the suppression list: this person asked to be erased." in job.error_report
    assert not Contact.objects.filter(display_name="Priya Raman").exists()


@pytest.mark.parametrize("people", [1, 30])
def test_a_finished_import_page_runs_a_constant_number_of_queries(
    people: int, alice: Any, team: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(people):
        ContactFactory(team=team, first_name=f"P{index}", last_name="Known", title="", email=f"p{index}@x.example")
    rows = "".join(
        f"P{index} Known,p{index}@x.example,Buyer\nNew {index},n{index}@x.example,\n" for index in range(people)
    )
    job = run_import(alice, team, "people.csv", f"Name,Email,Title\n{rows}".encode())
    assert job.counts == {"create": people, "update": people}
    client = client_for(alice)
    # 1 session, 2 user, 3 roles, 4 the job, 5 what undo would do (counts), 6 its examples,
    # 7 the bell.
    with django_assert_max_num_queries(7):
        page = client.get(reverse("contacts:import_detail", kwargs={"pk": job.pk})).content.decode()
    text = " ".join(page.split())
    assert f"delete the {people} contacts it created" in text
    assert f"put back the {people} existing contacts it updated as they were" in text


def test_an_invalid_row_does_not_keep_its_batch_alive_until_a_garbage_collection() -> None:
    # Django's ValidationError is a reference cycle; with its traceback it held the frames of
    # the planning, whose callers hold the batch (~25% of a 100,000-row preview's CPU went in
    # collecting them).
    class Batch:
        pass

    def plan_in_a_batch() -> weakref.ref[Batch]:
        batch = Batch()
        rows = [ImportRow(2, first_name="Ann", emails=[Method("not-an-email")]), ImportRow(3, phones=[Method("12")])]
        planned = [_first_planning(row) for row in rows]
        assert [p.action for p in planned] == ["invalid", "invalid"]
        return weakref.ref(batch)

    gc.disable()
    try:
        assert plan_in_a_batch()() is None
    finally:
        gc.enable()


def test_a_batch_that_clashes_with_a_concurrent_writer_is_planned_again(alice, team) -> None:
    job = services.import_preview(actor=alice, team=team, file_name="update.csv", data=UPDATE)
    writer = services._Writer(job)
    (batch,) = services._stored_batches(job, 100)
    # Someone adds Mei after the commit checked the team and before this batch is written:
    # her email is taken, so the rows are planned again and update her.
    mei = _mei(team)

    writer.write(batch)

    assert writer.counts == {"update": 1}
    assert Contact.objects.filter(team=team).count() == 1
    mei.refresh_from_db()
    assert mei.title == "Founder"


def test_the_plan_matches_the_teams_contacts_by_email_or_profile_url_and_no_one_elses(team, other_team) -> None:
    mei = _mei(team)
    site = ContactFactory(team=team, display_name="Site Only", title="")
    url = "https://tanaka.example/"
    ContactMethodFactory(contact=site, kind="website", value=url, normalized=normalize_method("website", url))
    ContactFactory(team=other_team, email="jo@elsewhere.example")
    rows = [
        ImportRow(2, display_name="Mei T", title="Founder", emails=[Method("Mei@Tanaka-Design.example")]),
        ImportRow(3, display_name="Jo", emails=[Method("jo@elsewhere.example")]),
        ImportRow(4, display_name="Site", title="Webmaster", websites=[Method("https://tanaka.example/")]),
    ]

    mei_row, jo_row, site_row = Planner(team).plan(rows)

    assert (mei_row.action, mei_row.existing_id) == ("update", mei.pk)
    assert (jo_row.action, jo_row.existing_id) == ("create", None)
    assert (site_row.action, site_row.existing_id) == ("update", site.pk)
