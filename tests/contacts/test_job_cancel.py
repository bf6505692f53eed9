"""Cancelling a background job (an email upload, a contact import) from its progress page.

The tasks run in-process here: a test cancels through the page while the task body is
between two batches, as a person would while a worker writes them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.email import ingest
from contacts.email.services import email_upload_run
from contacts.models import Activity, Contact, EmailUploadJob, ImportJob, ImportPlanBatch
from contacts.services import imports
from contacts.services.jobs import stalled_jobs_fail
from socialcrm.audit.models import AuditEvent
from tests.contacts.importing import fixture_bytes
from tests.contacts.mail import AMARA, mbox
from tests.factories import ContactFactory, EmailUploadJobFactory

pytestmark = pytest.mark.django_db

FINISHED = "It has already finished: there is nothing left to cancel."


@pytest.fixture
def amara(team: Any, alice: Any) -> Contact:
    return ContactFactory(team=team, owner=alice, first_name="Amara", last_name="Okafor", email=AMARA)


def cancel_upload(client: Any, job: Any, **headers: Any) -> Any:
    return client.post(reverse("contacts:email_upload_cancel", args=[job.pk]), **headers)


def cancel_import(client: Any, job: Any, **headers: Any) -> Any:
    return client.post(reverse("contacts:import_cancel", args=[job.pk]), **headers)


def queued_import(alice: Any, team: Any) -> ImportJob:
    """The LinkedIn sample (7 rows: 6 to create, 1 duplicate) confirmed, its task not run yet."""
    job = imports.import_preview(
        actor=alice, team=team, file_name="l.csv", data=fixture_bytes("linkedin_connections.csv")
    )
    imports.import_commit(actor=alice, job=job)  # the task waits for the commit, which the test never makes
    return job


# --- Email uploads ---------------------------------------------------------------------------


def test_a_queued_upload_is_cancelled_at_once_and_its_file_deleted(client_for: Any, alice: Any, amara: Contact):
    job = EmailUploadJobFactory(created_by=alice, data=mbox(range(5)))
    client = client_for(alice)

    response = cancel_upload(client, job)

    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:email_upload_job", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, bytes(job.data)) == ("cancelled", b"")
    assert job.finished_at is not None
    event = AuditEvent.objects.get(action="email.upload_cancelled")
    assert (event.actor_id, event.object_type, event.object_id) == (alice.pk, "emailuploadjob", str(job.pk))
    # The task, delivered afterwards, finds nothing to claim.
    assert email_upload_run(job_id=job.pk) is None
    assert not Activity.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "Cancelled." in page  # the message
    assert "Upload cancelled" in page
    assert "before any message was logged." in page
    assert 'hx-trigger="every 1s"' not in page


def test_a_running_upload_stops_after_the_batch_being_logged(
    client_for: Any, alice: Any, amara: Contact, monkeypatch: Any
):
    job = EmailUploadJobFactory(created_by=alice, data=mbox(range(250)))
    client = client_for(alice)
    monkeypatch.setattr(ingest, "CHUNK", 100)
    record = ingest._record_chunk
    seen: list[tuple[str, bool]] = []

    def cancelled_during_the_first_batch(*args: Any, **kwargs: Any) -> None:
        record(*args, **kwargs)
        if not seen:
            response = cancel_upload(client, job, HTTP_HX_REQUEST="true")
            fragment = response.content.decode()
            seen.append((EmailUploadJob.objects.get(pk=job.pk).status, "Cancelling…" in fragment))
            assert 'hx-trigger="every 1s"' in fragment  # the page polls until the task has stopped

    monkeypatch.setattr(ingest, "_record_chunk", cancelled_during_the_first_batch)

    email_upload_run(job_id=job.pk)

    assert seen == [("cancelled", True)]
    job.refresh_from_db()
    assert (job.status, job.failure, bytes(job.data)) == ("cancelled", "", b"")
    assert job.finished_at is not None
    assert (job.counts["messages"], job.counts["logged"]) == (100, 100)
    assert len(mbox(range(100))) <= job.bytes_read < len(mbox(range(101)))  # read up to message 101
    assert Activity.objects.filter(contact=amara).count() == 100  # the first batch stays
    page = client.get(reverse("contacts:email_upload_job", args=[job.pk])).content.decode()
    assert "Upload cancelled" in page
    assert "after 100 messages (39% of the file). They stay logged; uploading the file again logs only the others:" in (
        " ".join(page.split())
    )


def test_the_running_upload_page_offers_to_cancel_it(client_for: Any, alice: Any):
    job = EmailUploadJobFactory(created_by=alice, status="running", size=1000, bytes_read=420)
    url = reverse("contacts:email_upload_cancel", args=[job.pk])

    page = client_for(alice).get(reverse("contacts:email_upload_job", args=[job.pk])).content.decode()

    # A disclosure (keyboard and screen-reader friendly) holds the real form; htmx keeps it open while polling.
    assert '<details id="job-cancel" class="job-cancel" hx-preserve="true">' in page
    assert "<summary>Cancel this upload…</summary>" in page
    assert f'<form method="post" action="{url}" hx-post="{url}" hx-target="#job-progress"' in page
    assert "The messages logged by then stay; the file is deleted." in page
    assert '<button type="submit" class="button-danger">Yes, cancel the upload</button>' in page


def test_cancelling_twice_is_harmless(client_for: Any, alice: Any):
    job = EmailUploadJobFactory(created_by=alice)
    client = client_for(alice)
    cancel_upload(client, job)
    finished_at = EmailUploadJob.objects.get(pk=job.pk).finished_at

    response = cancel_upload(client, job, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "Upload cancelled" in response.content.decode()
    assert 'role="alert"' not in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.finished_at) == ("cancelled", finished_at)
    assert AuditEvent.objects.filter(action="email.upload_cancelled").count() == 1


def test_a_finished_upload_cannot_be_cancelled(client_for: Any, alice: Any):
    job = EmailUploadJobFactory(
        created_by=alice, status="done", data=b"", finished_at=timezone.now(), counts={"messages": 3, "logged": 3}
    )
    client = client_for(alice)

    response = cancel_upload(client, job)
    fragment = cancel_upload(client, job, HTTP_HX_REQUEST="true").content.decode()

    assert EmailUploadJob.objects.get(pk=job.pk).status == "done"
    assert FINISHED in client.get(response["Location"]).content.decode()  # the message on the page
    assert f'<p class="message message-error" role="alert">{FINISHED}</p>' in fragment
    assert "3 messages read" in fragment
    assert not AuditEvent.objects.filter(action="email.upload_cancelled").exists()


def test_only_the_uploader_may_cancel_an_upload(client_for: Any, alice: Any, bob: Any, charlie: Any, amara: Contact):
    job = EmailUploadJobFactory(created_by=alice, contact=amara)

    for user in (bob, charlie):  # her teammate, another team's seller: the page is hers alone
        assert cancel_upload(client_for(user), job).status_code == 404

    assert EmailUploadJob.objects.get(pk=job.pk).status == "queued"


# --- Imports ----------------------------------------------------------------------------------


def test_a_queued_import_is_cancelled_at_once_and_never_runs(client_for: Any, alice: Any, team: Any):
    job = queued_import(alice, team)
    assert ImportPlanBatch.objects.filter(job=job).exists()
    client = client_for(alice)

    response = cancel_import(client, job)

    assert response["Location"] == reverse("contacts:import_detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == ("cancelled", 0)
    assert job.finished_at is not None
    assert not ImportPlanBatch.objects.filter(job=job).exists()  # the stored plan goes, as when an import ends
    assert AuditEvent.objects.filter(action="contacts.import_cancelled", actor=alice).count() == 1
    assert imports.import_run(job_id=job.pk) is None
    assert not Contact.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "Import cancelled" in page
    assert "after 0 of 7 rows. Nothing was imported." in " ".join(page.split())
    assert "Undo this import" not in page


def test_a_running_import_stops_after_the_batch_being_written_and_can_be_undone(
    client_for: Any, alice: Any, team: Any, monkeypatch: Any
):
    job = queued_import(alice, team)
    client = client_for(alice)
    write = imports._Writer.write
    batches: list[int] = []

    def cancelled_after_the_first_batch(self: Any, batch: Any) -> None:
        write(self, batch)
        batches.append(len(batch))
        if len(batches) == 1:
            assert cancel_import(client, job).status_code == 302
            assert ImportJob.objects.get(pk=job.pk).stopping

    monkeypatch.setattr(imports._Writer, "write", cancelled_after_the_first_batch)

    imports.import_run(job_id=job.pk, batch_size=2)

    assert batches == [2]
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows, job.counts) == ("cancelled", 2, 7, {"create": 2})
    assert job.finished_at is not None
    assert Contact.objects.filter(team=team).count() == 2
    page = client.get(reverse("contacts:import_detail", args=[job.pk])).content.decode()
    assert "after 2 of 7 rows. What those rows did stays, and can be undone below:" in " ".join(page.split())
    assert "delete the 2 contacts it created;" in page

    client.post(reverse("contacts:import_undo", args=[job.pk]))

    job.refresh_from_db()
    assert (job.status, job.undo_summary["deleted"]) == ("undone", 2)
    assert not Contact.objects.exists()


def test_an_import_cancelled_as_it_finishes_stays_cancelled(alice: Any, team: Any, monkeypatch: Any):
    # The owner's cancel lands after the task's last look, while it saves the end: the page says cancelled.
    job = queued_import(alice, team)
    report = imports.error_report_csv

    def cancelled_meanwhile(rows: Any) -> str:
        imports.import_cancel(actor=alice, job=job)
        return report(rows)

    monkeypatch.setattr(imports, "error_report_csv", cancelled_meanwhile)

    imports.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows) == ("cancelled", 7, 7)
    assert job.finished_at is not None


@pytest.mark.parametrize("status", ["done", "failed", "undone"])
def test_an_ended_import_cannot_be_cancelled(client_for: Any, alice: Any, team: Any, status: str):
    job = queued_import(alice, team)
    ImportJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now())
    client = client_for(alice)

    response = cancel_import(client, job)

    assert ImportJob.objects.get(pk=job.pk).status == status
    assert FINISHED in client.get(response["Location"]).content.decode()


def test_a_previewed_import_has_nothing_to_cancel(client_for: Any, alice: Any, team: Any):
    job = imports.import_preview(
        actor=alice, team=team, file_name="l.csv", data=fixture_bytes("linkedin_connections.csv")
    )
    client = client_for(alice)

    response = cancel_import(client, job)

    assert ImportJob.objects.get(pk=job.pk).status == "preview"
    assert "It has not been started: there is nothing to cancel." in client.get(response["Location"]).content.decode()


def test_charlie_cannot_cancel_an_import_into_alices_team(client_for: Any, alice: Any, charlie: Any, team: Any):
    job = queued_import(alice, team)

    assert cancel_import(client_for(charlie), job).status_code == 404
    assert ImportJob.objects.get(pk=job.pk).status == "queued"


def test_the_cancelled_import_page_costs_the_same_whatever_was_imported(
    client_for: Any, alice: Any, team: Any, django_assert_max_num_queries: Any
):
    client = client_for(alice)
    small = queued_import(alice, team)
    cancel_import(client, small)
    large = imports.import_preview(actor=alice, team=team, file_name="g.csv", data=fixture_bytes("google_contacts.csv"))
    imports.import_commit(actor=alice, job=large)
    ImportJob.objects.filter(pk=large.pk).update(status="cancelled", finished_at=timezone.now(), processed_rows=3)
    # The user, their roles (groups), their teams, the job; the undo outline's counts and examples
    # (cancelled after some rows); the navigation's reminder count.
    for job, budget in ((small, 5), (large, 7)):
        with django_assert_max_num_queries(budget):
            assert client.get(reverse("contacts:import_detail", args=[job.pk])).status_code == 200


# --- The stalled-jobs beat ------------------------------------------------------------------


def test_the_stalled_jobs_beat_never_fails_or_revives_a_cancelled_job(alice: Any, team: Any):
    long_ago = timezone.now() - timedelta(hours=1)
    cancelled = EmailUploadJobFactory(created_by=alice, status="cancelled", data=b"", finished_at=long_ago)
    # Cancelled while running, and its worker lost before it could stop: it ends as cancelled.
    stopping = EmailUploadJobFactory(created_by=alice, status="cancelled")
    stopping_import = queued_import(alice, team)
    ImportJob.objects.filter(pk=stopping_import.pk).update(status="cancelled")
    EmailUploadJob.objects.filter(pk__in=[cancelled.pk, stopping.pk]).update(updated_at=long_ago)
    ImportJob.objects.filter(pk=stopping_import.pk).update(updated_at=long_ago)

    assert stalled_jobs_fail() == 2

    assert EmailUploadJob.objects.get(pk=cancelled.pk).finished_at == long_ago
    stopping.refresh_from_db()
    assert (stopping.status, stopping.failure, bytes(stopping.data)) == ("cancelled", "", b"")
    assert stopping.finished_at is not None
    stopping_import.refresh_from_db()
    assert (stopping_import.status, stopping_import.failure) == ("cancelled", "")
    assert stopping_import.finished_at is not None


def import_with_plan(alice: Any, team: Any, status: str, *, quiet: bool = True) -> ImportJob:
    """A confirmed import with its stored plan, moved to ``status``, its last progress long ago if ``quiet``."""
    job = queued_import(alice, team)
    changed = {"updated_at": timezone.now() - timedelta(hours=1)} if quiet else {}
    ImportJob.objects.filter(pk=job.pk).update(status=status, **changed)
    return job


def test_the_stalled_jobs_beat_deletes_the_stored_plan_of_the_imports_it_ends(alice: Any, team: Any):
    lost = import_with_plan(alice, team, "running")
    lost_while_stopping = import_with_plan(alice, team, "cancelled")
    alive = import_with_plan(alice, team, "running", quiet=False)
    previewed = imports.import_preview(
        actor=alice, team=team, file_name="l.csv", data=fixture_bytes("linkedin_connections.csv")
    )

    assert stalled_jobs_fail() == 2

    lost.refresh_from_db()
    lost_while_stopping.refresh_from_db()
    assert (lost.status, lost_while_stopping.status) == ("failed", "cancelled")
    # Never written again from it: a retry plans from the file.
    assert not ImportPlanBatch.objects.filter(job__in=[lost, lost_while_stopping]).exists()
    assert ImportJob.objects.get(pk=alive.pk).status == "running"
    assert ImportPlanBatch.objects.filter(job=alive).count() == 1  # its task is still writing it
    assert ImportPlanBatch.objects.filter(job=previewed).count() == 1


def test_the_stalled_jobs_beat_makes_as_many_queries_for_one_job_as_for_three(
    alice: Any, team: Any, django_assert_num_queries: Any
):
    # Savepoint; per job model: lock the stalled jobs' ids, end the running ones as failed,
    # the cancelled ones as cancelled; delete the imports' stored plans; release.
    for stalled in (1, 3):
        for _ in range(stalled):
            import_with_plan(alice, team, "running")
        EmailUploadJob.objects.filter(
            pk__in=[EmailUploadJobFactory(created_by=alice, status="cancelled").pk for _ in range(stalled)]
        ).update(updated_at=timezone.now() - timedelta(hours=1))
        with django_assert_num_queries(9):
            assert stalled_jobs_fail() == 2 * stalled
    assert not ImportPlanBatch.objects.exists()
