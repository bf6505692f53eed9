"""Large email uploads: logged by a background job (the Celery task, in-process here) with a progress page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from contacts.email import ingest
from contacts.email.services import email_upload_run
from contacts.models import Activity, Contact, EmailUploadJob, ImportJob
from contacts.registry import personal_data_holders
from contacts.services.jobs import STALLED_REASON, stalled_jobs_fail
from socialcrm.audit.models import AuditEvent
from tests.contacts.mail import AMARA, mbox
from tests.factories import ActivityFactory, ContactFactory, EmailUploadJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def amara(team: Any, alice: Any) -> Contact:
    return ContactFactory(team=team, owner=alice, first_name="Amara", last_name="Okafor", email=AMARA)


@pytest.fixture
def in_background(settings: Any) -> None:
    """Every upload over 1 KB goes to a background job."""
    settings.EMAIL_UPLOAD_SYNC_BYTES = 1024


def upload(client: Any, data: bytes, capture: Any, url: str | None = None) -> Any:
    with capture(execute=True):  # the task runs once the upload's transaction commits
        return client.post(url or reverse("contacts:email_upload"), {"file": SimpleUploadedFile("big.mbox", data)})


def test_a_large_mbox_is_logged_by_the_background_job_with_exact_counts(
    client_for: Any, alice: Any, amara: Contact, in_background: None, django_capture_on_commit_callbacks: Any
):
    # 300 from Amara (20 of them logged already), 50 from a stranger, 30 unreadable.
    for index in range(20):
        ActivityFactory(contact=amara, kind=Activity.Kind.EMAIL, external_id=f"m{index}@mail.example")
    data = mbox(range(300)) + mbox(range(300, 350), sender="stranger@elsewhere.example")
    data += mbox(range(350, 380), readable=False)
    client = client_for(alice)

    response = upload(client, data, django_capture_on_commit_callbacks)

    job = EmailUploadJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:email_upload_job", args=[job.pk])
    assert (job.status, job.failure, job.created_by, job.contact, job.size) == ("done", "", alice, None, len(data))
    counts = job.counts
    assert (counts["messages"], counts["logged"], counts["already_logged"], counts["unmatched"]) == (380, 280, 20, 50)
    assert (counts["entries_created"], counts["broken_count"]) == (280, 30)
    assert counts["broken"][0] == {
        "index": 351,
        "reason": "no readable sender (From) address",
        "message_id": "m350@mail.example",
    }
    assert Activity.objects.filter(contact=amara, kind="email").count() == 300
    assert bytes(job.data) == b""  # the mail is deleted once read
    assert job.progress_percent == 100
    assert AuditEvent.objects.filter(action="email.logged", actor=alice).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "380 messages read" in page
    assert "Message 351 (Message-ID <code>m350@mail.example</code>): no readable sender" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    # The upload page lists it.
    assert (
        reverse("contacts:email_upload_job", args=[job.pk])
        in client.get(reverse("contacts:email_upload")).content.decode()
    )


def test_a_small_upload_is_still_logged_within_the_request(client_for: Any, alice: Any, amara: Contact):
    response = client_for(alice).post(
        reverse("contacts:email_upload"), {"file": SimpleUploadedFile("a.mbox", mbox(range(3)))}
    )

    assert response.status_code == 200
    assert response.context["result"].logged == 3
    assert not EmailUploadJob.objects.exists()


def test_a_job_on_a_contact_logs_only_on_that_contact(
    client_for: Any, alice: Any, amara: Contact, team: Any, in_background: None, django_capture_on_commit_callbacks: Any
):
    lukas = ContactFactory(team=team, email="lukas@brandt.example")
    data = mbox(range(10)) + mbox(range(10, 15), sender="lukas@brandt.example")

    upload(
        client_for(alice),
        data,
        django_capture_on_commit_callbacks,
        reverse("contacts:contact_email_upload", args=[lukas.pk]),
    )

    job = EmailUploadJob.objects.get()
    assert (job.contact, job.counts["logged"], job.counts["unmatched"]) == (lukas, 5, 10)
    assert set(Activity.objects.values_list("contact_id", flat=True)) == {lukas.pk}


def test_progress_is_saved_with_every_batch(alice: Any, amara: Contact, monkeypatch: Any):
    job = EmailUploadJobFactory(created_by=alice, data=mbox(range(250)))
    monkeypatch.setattr(ingest, "CHUNK", 100)
    seen: list[tuple[int, int]] = []
    record = ingest._record_chunk

    def spy(*args: Any, **kwargs: Any) -> None:
        row = EmailUploadJob.objects.get(pk=job.pk)
        seen.append((row.counts.get("messages", 0), row.bytes_read))
        record(*args, **kwargs)

    monkeypatch.setattr(ingest, "_record_chunk", spy)

    email_upload_run(job_id=job.pk)

    assert [messages for messages, _ in seen] == [0, 100, 200]
    read = [bytes_read for _, bytes_read in seen]
    assert read[0] == 0 < read[1] < read[2] < job.size
    job.refresh_from_db()
    assert (job.status, job.counts["logged"], job.bytes_read) == ("done", 250, job.size)
    # A redelivered task finds the job claimed and does nothing.
    assert email_upload_run(job_id=job.pk) is None


def test_a_file_in_which_nothing_can_be_read_fails_the_job(
    client_for: Any, alice: Any, amara: Contact, in_background: None, django_capture_on_commit_callbacks: Any
):
    client = client_for(alice)

    response = upload(client, mbox(range(40), readable=False), django_capture_on_commit_callbacks)

    job = EmailUploadJob.objects.get()
    assert job.status == "failed"
    assert job.failure == (
        "No message in this file could be read: it is not a mailbox (.mbox) or email (.eml) file, "
        "or it is damaged. Message 1: no readable sender (From) address."
    )
    assert bytes(job.data) == b""
    page = client.get(response["Location"]).content.decode()
    assert "The upload stopped" in page
    assert "No message in this file could be read" in page


def test_a_crash_fails_the_job_and_keeps_what_was_logged_before(
    client_for: Any,
    alice: Any,
    amara: Contact,
    in_background: None,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
):
    monkeypatch.setattr(ingest, "CHUNK", 100)
    record_many = ingest.activity_record_many
    calls: list[int] = []

    def database_gone_on_the_second_batch(activities: Any) -> Any:
        calls.append(len(activities))
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return record_many(activities)

    monkeypatch.setattr(ingest, "activity_record_many", database_gone_on_the_second_batch)
    data = mbox(range(250))
    client = client_for(alice)

    response = upload(client, data, django_capture_on_commit_callbacks)

    job = EmailUploadJob.objects.get()
    assert job.status == "failed"
    assert job.failure == "It stopped after 100 messages: OperationalError: server closed the connection unexpectedly"
    assert job.counts["logged"] == 100
    assert Activity.objects.count() == 100
    assert bytes(job.data) == b""
    page = client.get(response["Location"]).content.decode()
    assert "The upload stopped" in page
    assert "Of the 100 messages read before that" in page
    # Uploading it again logs only the rest (Message-ID dedupe).
    monkeypatch.setattr(ingest, "activity_record_many", record_many)
    upload(client, data, django_capture_on_commit_callbacks)
    again = EmailUploadJob.objects.latest("id")
    assert (again.status, again.counts["logged"], again.counts["already_logged"]) == ("done", 150, 100)
    assert Activity.objects.count() == 250


def test_a_running_job_polls_its_progress_every_second(client_for: Any, alice: Any):
    job = EmailUploadJobFactory(
        created_by=alice, status="running", size=1000, bytes_read=420, counts={"messages": 12, "logged": 9}
    )
    client = client_for(alice)
    progress = reverse("contacts:email_upload_progress", args=[job.pk])

    page = client.get(reverse("contacts:email_upload_job", args=[job.pk])).content.decode()
    fragment = client.get(progress, HTTP_HX_REQUEST="true")
    no_js = client.get(progress)

    assert f'hx-get="{progress}" hx-trigger="every 1s"' in page
    assert '<progress max="100" value="42" aria-label="Upload progress">' in page
    assert "12 messages read so far" in page
    assert "(42% of the file): 9 logged" in page
    assert ">Refresh</a>" in page  # without JavaScript
    assert fragment.status_code == 200
    assert "12 messages read so far" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert no_js.status_code == 302


def test_the_job_page_costs_the_same_whatever_the_summary_holds(
    client_for: Any, alice: Any, amara: Contact, django_assert_max_num_queries: Any
):
    client = client_for(alice)
    small = EmailUploadJobFactory(created_by=alice, contact=amara, status="done", counts={"messages": 1, "logged": 1})
    broken = [{"index": index, "reason": "empty", "message_id": f"m{index}@x"} for index in range(200)]
    large = EmailUploadJobFactory(
        created_by=alice, status="done", counts={"messages": 5000, "broken_count": 3000, "broken": broken}
    )
    # The user, their roles (groups), their teams, the job with its contact or organization
    # (one query, scoped to what alice sees); the page adds the navigation's reminder count.
    for job in (small, large):
        with django_assert_max_num_queries(5):
            response = client.get(reverse("contacts:email_upload_job", args=[job.pk]))
        assert response.status_code == 200
        with django_assert_max_num_queries(4):
            client.get(reverse("contacts:email_upload_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "(the first 200 are listed)" in response.content.decode()


def test_another_users_upload_job_is_404(client_for: Any, alice: Any, bob: Any, charlie: Any, amara: Contact):
    job = EmailUploadJobFactory(created_by=alice, contact=amara)

    for user in (charlie, bob):  # another team's; a teammate's page is the uploader's own too
        assert client_for(user).get(reverse("contacts:email_upload_job", args=[job.pk])).status_code == 404
        progress = reverse("contacts:email_upload_progress", args=[job.pk])
        assert client_for(user).get(progress, HTTP_HX_REQUEST="true").status_code == 404


def test_a_job_on_a_contact_alice_no_longer_sees_is_404(client_for: Any, alice: Any, other_team: Any):
    elsewhere = ContactFactory(team=other_team)
    job = EmailUploadJobFactory(created_by=alice, contact=elsewhere)

    assert client_for(alice).get(reverse("contacts:email_upload_job", args=[job.pk])).status_code == 404


def test_stalled_jobs_fail_and_their_file_is_deleted(alice: Any, team: Any):
    long_ago = timezone.now() - timedelta(hours=1)
    stalled = EmailUploadJobFactory(created_by=alice, status="running")
    fresh = EmailUploadJobFactory(created_by=alice, status="running")
    queued = EmailUploadJobFactory(created_by=alice)
    stalled_import = ImportJob.objects.create(
        team=team, created_by=alice, file_name="x.csv", format="generic", status="running"
    )
    EmailUploadJob.objects.filter(pk__in=[stalled.pk, queued.pk]).update(updated_at=long_ago)
    ImportJob.objects.filter(pk=stalled_import.pk).update(updated_at=long_ago)

    assert stalled_jobs_fail() == 2

    stalled.refresh_from_db()
    assert (stalled.status, stalled.failure, bytes(stalled.data)) == ("failed", STALLED_REASON, b"")
    assert stalled.finished_at is not None
    assert EmailUploadJob.objects.get(pk=fresh.pk).status == "running"
    assert EmailUploadJob.objects.get(pk=queued.pk).status == "queued"  # its task may wait in the outbox
    assert ImportJob.objects.get(pk=stalled_import.pk).status == "failed"


def test_personal_data_export_and_erasure_cover_upload_jobs(alice: Any, amara: Contact):
    on_amara = EmailUploadJobFactory(created_by=alice, contact=amara, file_name="amara.mbox")
    everyone = EmailUploadJobFactory(created_by=alice)
    holder = next(holder for holder in personal_data_holders() if holder.name == "email_uploads")

    exported = holder.export(amara)
    holder.erase(amara)

    assert [(row["id"], row["file_name"]) for row in exported] == [(on_amara.pk, "amara.mbox")]
    assert list(EmailUploadJob.objects.values_list("pk", flat=True)) == [everyone.pk]
