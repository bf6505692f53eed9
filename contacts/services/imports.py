"""Importing contacts from a file: preview, commit (a Celery task), undo.

``import_preview`` reads the upload and stores it on an ``ImportJob`` with the plan of
every row (``ImportPlanBatch``), the counts of what the import would do and the rows the
preview shows (planned once; the preview page reads them back, planning again only if the
team's contacts changed); ``import_commit`` queues ``contacts.tasks.import_run``, which
calls ``import_run`` to write the stored plan in batches (planning the file again if the
team changed since; bulk inserts, the suppression list asked again per batch), updating the
job's progress as it goes.
Good rows are imported even when others are refused; every refused row ends up in the
job's error report with its line number and the reason. ``import_undo`` deletes the
contacts (and organizations) the job created and puts back what it changed on existing
contacts, for those nobody touched since.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from contacts.importing import bulk
from contacts.importing import detect as detection
from contacts.importing.parse import TARGETS, guess_mapping, parse_rows
from contacts.importing.plan import (
    CREATE,
    INVALID,
    ORGANIZATION,
    SKIP,
    UPDATE,
    WRITTEN,
    PlannedRow,
    Planner,
    batched,
    email_domain,
    planned_row,
    replannable_row,
    skip_suppressed,
    stored_row,
)
from contacts.models import (
    Activity,
    Contact,
    ContactMethod,
    ContactRedirect,
    ImportedRecord,
    ImportJob,
    ImportMapping,
    ImportPlanBatch,
    Organization,
    Tag,
)
from contacts.services.jobs import job_cancel, job_cancelled, job_claim, job_end
from socialcrm import outbox
from socialcrm.audit.registry import Action
from socialcrm.audit.services import audit_record
from socialcrm.bulk import rows_update
from socialcrm.models import Team

logger = logging.getLogger(__name__)

# Rows planned and written per transaction; progress is saved with each batch.
BATCH_SIZE = 2500
# Batches written at once (PostgreSQL): most of a batch's time is the database's, on a core of its own.
WRITERS = 2
IMPORT_SOURCE = "import"
# The tables an import adds a row to for (nearly) every row of its file.
GROWN_BY_IMPORT = (Contact, ContactMethod, Contact.tags.through, Activity, ImportedRecord)
# The preview lists this many rows (every count covers the whole file).
PREVIEW_ROWS = 200
# What planning the preview sets on a job.
_PLAN_FIELDS = ["counts", "total_rows", "preview_rows", "planned_against", "updated_at"]


class ImportAuditAction(models.TextChoices):
    IMPORT_UNDONE = "contacts.import_undone", "Contact import undone"
    IMPORT_CANCELLED = "contacts.import_cancelled", "Contact import cancelled"


def _detected(job: ImportJob) -> detection.Detected:
    """The job's stored text, read the way it was at upload (the format as detected then)."""
    detected = detection.inspect_text(job.content, job.encoding)
    return detection.Detected(
        job.format, job.encoding, job.content, detected.delimiter, detected.skip_lines, detected.headers
    )


def job_headers(job: ImportJob) -> list[str]:
    return _detected(job).headers


def planned_batches(job: ImportJob, size: int = BATCH_SIZE) -> Iterator[list[PlannedRow]]:
    """The job's rows, planned against the team as it is now, ``size`` at a time."""
    planner = Planner(job.team)
    for batch in batched(parse_rows(_detected(job), job.mapping), size):
        yield planner.plan(batch)


def _stored_batches(job: ImportJob, size: int) -> Iterator[list[PlannedRow]]:
    """The plan the preview stored, ``size`` rows at a time, one stored batch in memory at once.

    The suppression list is asked again about each batch: someone may have been erased since.
    """
    numbers = list(job.plan_batches.values_list("pk", flat=True))
    stored = (
        planned_row(row)
        for pk in numbers
        for row in ImportPlanBatch.objects.filter(pk=pk).values_list("rows", flat=True).get()
    )
    for batch in batched(stored, size):
        skip_suppressed(batch)
        yield batch


def _preview_row(planned: PlannedRow) -> dict[str, Any]:
    """What the preview table shows of a planned row (stored on the job as JSON)."""
    return {
        "line": planned.line,
        "action": planned.action,
        "action_label": planned.action_label,
        "name": (planned.name or planned.row.name)[:80],
        "emails": ", ".join(planned.emails)[:80],
        "organization": planned.row.organization[:60],
        "reason": planned.reason[:200],
    }


def import_team_watermark(team_id: int) -> str:
    """A cheap fingerprint of what planning reads of a team: its contacts and their methods.

    Four aggregate subqueries in one statement; it changes when a contact is added, edited,
    deleted, or gains or loses a contact method.
    """

    def per_team(model: type[models.Model], **aggregate: Any) -> models.Subquery:
        grouped = model._default_manager.filter(team_id=models.OuterRef("pk")).order_by().values("team_id")
        return models.Subquery(grouped.annotate(**aggregate).values(*aggregate)[:1])

    row: Mapping[str, Any] = (
        Team.objects.filter(pk=team_id)
        .values(
            contact_count=per_team(Contact, n=models.Count("id")),
            changed=per_team(Contact, top=models.Max("updated_at")),
            method_count=per_team(ContactMethod, n=models.Count("id")),
            last_method=per_team(ContactMethod, top=models.Max("id")),
        )
        .first()
    ) or {}
    changed = row["changed"].isoformat() if row.get("changed") else "-"
    counted = (row.get(name) or 0 for name in ("contact_count", "method_count", "last_method"))
    return ":".join([changed, *map(str, counted)])


def _plan_preview(job: ImportJob) -> int:
    """Plan the whole file once: store the plan of every row (``ImportPlanBatch``, for the
    commit), and the counts and the rows to show on ``job`` (not saved); the number of rows.

    Rows with problems (skipped, invalid) come first, so a big file's few bad rows are
    seen without paging through it.
    """
    watermark = import_team_watermark(job.team_id)
    job.plan_batches.all().delete()
    counts: Counter[str] = Counter()
    problems: list[PlannedRow] = []
    others: list[PlannedRow] = []
    total = 0
    with bulk.fewer_collections():
        for number, batch in enumerate(planned_batches(job)):
            total += len(batch)
            for planned in batch:
                counts[planned.action] += 1
                shown = problems if planned.action in (SKIP, INVALID) else others
                if len(shown) < PREVIEW_ROWS:
                    shown.append(planned)
            bulk.insert(ImportPlanBatch, [{"job_id": job.pk, "number": number, "rows": list(map(stored_row, batch))}])
    job.counts, job.total_rows = dict(counts), total
    job.preview_rows = [_preview_row(planned) for planned in (problems + others)[:PREVIEW_ROWS]]
    job.planned_against = watermark
    return total


def _remembered_mapping(actor: Any, headers: list[str]) -> dict[str, str]:
    """The user's mapping for these exact headers, else their last one where headers match, else a guess."""
    signature = detection.headers_signature(headers)
    exact = ImportMapping.objects.filter(user=actor, headers_signature=signature).first()
    if exact is not None:
        return {header: exact.mapping.get(header, "") for header in headers}
    mapping = guess_mapping(headers)
    last = ImportMapping.objects.filter(user=actor).order_by("-updated_at").first()
    if last is not None:
        mapping.update({header: last.mapping[header] for header in headers if header in last.mapping})
    return mapping


@transaction.atomic
def import_preview(*, actor: Any, team: Team, file_name: str, data: bytes) -> ImportJob:
    """Read an uploaded file and store it as a job waiting for confirmation.

    Raises ValidationError when the file is too large, not contacts, or has no rows.
    Nothing is imported yet; the job's ``counts`` say what confirming would do.
    """
    if len(data) > settings.IMPORT_MAX_BYTES:
        limit = settings.IMPORT_MAX_BYTES // (1024 * 1024)
        raise ValidationError(f"The file is larger than {limit} MB: split it and import the parts.")
    try:
        detected = detection.detect(data, file_name)
    except detection.DetectError as exc:
        raise ValidationError(str(exc)) from exc
    mapping = _remembered_mapping(actor, detected.headers) if detected.format == detection.GENERIC else {}
    job = ImportJob.objects.create(
        team=team,
        created_by=actor,
        file_name=file_name[:255] or "contacts",
        format=detected.format,
        encoding=detected.encoding,
        delimiter=detected.delimiter,
        content=detected.text,
        mapping=mapping,
    )
    if not _plan_preview(job):
        raise ValidationError("The file has no rows to import: only a header, or nothing after it.")
    job.save(update_fields=_PLAN_FIELDS)
    return job


def import_preview_rows(*, job: ImportJob) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The counts for the whole file and the rows to show (problems first), as planned at upload.

    Planned again (and stored) only when the team's contacts changed since
    (``import_team_watermark``): one cheap query otherwise, however large the file.
    """
    if job.status == ImportJob.Status.PREVIEW and job.planned_against != import_team_watermark(job.team_id):
        with transaction.atomic():
            _plan_preview(job)
            job.save(update_fields=_PLAN_FIELDS)
    return job.counts, job.preview_rows


@transaction.atomic
def import_set_mapping(*, actor: Any, job: ImportJob, mapping: Mapping[str, str]) -> ImportJob:
    """Set a generic CSV's column mapping and remember it for the next file with these columns."""
    if job.status != ImportJob.Status.PREVIEW:
        raise ValidationError("This import was already confirmed.")
    headers = job_headers(job)
    cleaned = {header: mapping.get(header, "") for header in headers}
    if any(target not in TARGETS for target in cleaned.values()):
        raise ValidationError("Choose what each column holds from the list.")
    if not {"first_name", "last_name", "name", "email", "organization"} & set(cleaned.values()):
        raise ValidationError("Map at least one column to a name, an email address or an organization.")
    job.mapping = cleaned
    _plan_preview(job)
    job.save(update_fields=["mapping", *_PLAN_FIELDS])
    ImportMapping.objects.update_or_create(
        user=actor, headers_signature=detection.headers_signature(headers), defaults={"mapping": cleaned}
    )
    return job


@transaction.atomic
def import_commit(*, actor: Any, job: ImportJob) -> ImportJob:
    """Confirm a previewed import: queue the task that writes it (once, however often confirmed)."""
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.QUEUED, updated_at=timezone.now()
    )
    if claimed:
        audit_record(actor=actor, action=Action.CONTACTS_IMPORTED, object_type="import_job", object_id=job.pk)
        outbox.enqueue("contacts.tasks.import_run", job.pk)
    job.refresh_from_db()
    return job


# --- The commit: writing batches ------------------------------------------------------------


class _Replan(Exception):
    """A batch's plan no longer holds: a contact it updates changed since it was planned."""


class _Writer:
    """Writes planned batches of one job with its progress; keeps the team's organizations and tags by name.

    Two threads may write batches at once (``import_run``): the organizations and tags a batch
    names are created first, each in a short transaction of their own under ``lock``, so
    that both see them committed; the job's progress is read again under its row lock by
    each batch.
    """

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.lock = threading.Lock()
        self.team_id = job.team_id
        self.actor_id = job.created_by_id
        self.organizations = {
            name.casefold(): pk
            for pk, name in Organization.objects.filter(team_id=self.team_id).values_list("pk", "name")
        }
        self.tags = {name: pk for pk, name in Tag.objects.filter(team_id=self.team_id).values_list("pk", "name")}
        self.errors: list[tuple[int, str, str]] = []
        self.counts: Counter[str] = Counter()

    def write(self, batch: list[PlannedRow]) -> None:
        """Write one batch and the job's progress in one transaction.

        If the batch clashes with a concurrent writer, or a contact it updates changed since
        it was planned, its rows are planned again against the team as it is now, once. The
        organizations and tags it names stay (undo deletes those organizations).
        """
        self._name(batch)
        try:
            with transaction.atomic():
                self._check_unchanged(batch)
                self._write(batch)
        except (IntegrityError, _Replan):
            logger.info("Import %s: a batch met a concurrent change; planning it again", self.job.pk)
        else:
            self._tally(batch)
            return
        unwritten = [planned for planned in batch if planned.action not in WRITTEN]
        batch = unwritten + Planner(self.job.team).plan(
            [replannable_row(planned) for planned in batch if planned.action in WRITTEN]
        )
        self._name(batch)
        try:
            with transaction.atomic():
                self._write(batch)
        except IntegrityError as exc:
            for planned in batch:
                if planned.action in WRITTEN:
                    planned.action, planned.reason = INVALID, f"Could not be saved ({str(exc)[:120]})."
            with transaction.atomic():
                self._save_progress(batch)
        self._tally(batch)

    def _name(self, batch: list[PlannedRow]) -> None:
        """Create the organizations and tags ``batch`` names that the team lacks, and commit them."""
        with self.lock, transaction.atomic():
            records: list[dict[str, Any]] = []
            self._organization_ids(batch, records)
            bulk.insert(ImportedRecord, records)
            self._tag_ids({tag for planned in batch if planned.action in (CREATE, UPDATE) for tag in planned.tags})

    def _check_unchanged(self, batch: list[PlannedRow]) -> None:
        """Lock the contacts ``batch`` updates; raise ``_Replan`` if one changed since planning."""
        seen = {planned.contact_pk: planned.seen_at for planned in batch if planned.action == UPDATE}
        if not seen:
            return
        # Locked in one order, so two writers wait for each other rather than deadlock.
        locked = Contact.objects.select_for_update().filter(pk__in=seen).order_by("pk")
        now = dict(locked.values_list("pk", "updated_at"))
        if any(pk not in now or now[pk].isoformat() != seen_at for pk, seen_at in seen.items()):
            raise _Replan

    def _save_progress(self, batch: list[PlannedRow]) -> None:
        """Add ``batch`` to the job's progress as committed so far (last in the batch's transaction).

        The job's row stays locked until the batch commits, so the checks the commit would
        run (foreign keys) are run first: another writer waits for the commit only. The lock
        leaves the job's key alone, which those checks hold (import records refer to the job).
        """
        bulk.check_deferred_constraints()
        jobs = ImportJob.objects.filter(pk=self.job.pk)
        processed, counts = jobs.select_for_update(no_key=True).values_list("processed_rows", "counts").get()
        counts = Counter(counts) + Counter(planned.action for planned in batch)
        jobs.update(processed_rows=processed + len(batch), counts=dict(counts), updated_at=timezone.now())

    def _tally(self, batch: list[PlannedRow]) -> None:
        """Count ``batch``, once its transaction committed."""
        with self.lock:
            self.job.processed_rows += len(batch)
            for planned in batch:
                self.counts[planned.action] += 1
                if planned.action in (SKIP, INVALID):
                    self.errors.append((planned.line, planned.action_label, planned.reason))

    def _organization_ids(self, batch: list[PlannedRow], records: list[dict[str, Any]]) -> None:
        wanted: dict[str, PlannedRow] = {}
        for planned in batch:
            name = planned.name if planned.action == ORGANIZATION else planned.row.organization
            if planned.action == UPDATE:
                name = planned.changes.get("organization", "")
            if planned.action in WRITTEN and name and name.casefold() not in self.organizations:
                wanted.setdefault(name.casefold(), planned)
        new = []
        for planned in wanted.values():
            is_company = planned.action == ORGANIZATION
            name = planned.name if is_company else (planned.row.organization or planned.changes["organization"])
            details = [f"{method.kind.title()}: {method.value}" for method in planned.methods] if is_company else []
            new.append(
                Organization(
                    team_id=self.team_id,
                    name=name[:200],
                    domain=email_domain(planned) if is_company else "",
                    notes="\n".join(details),
                )
            )
        for organization in Organization.objects.bulk_create(new):
            self.organizations[organization.name.casefold()] = organization.pk
            line = wanted[organization.name.casefold()].line
            records.append(
                {
                    "job_id": self.job.pk,
                    "organization_id": organization.pk,
                    "action": ImportedRecord.Action.ORGANIZATION_CREATED,
                    "line": line,
                }
            )

    def _tag_ids(self, names: set[str]) -> None:
        missing = names - self.tags.keys()
        if missing:
            Tag.objects.bulk_create([Tag(team_id=self.team_id, name=name) for name in missing], ignore_conflicts=True)
            self.tags.update(Tag.objects.filter(team_id=self.team_id, name__in=missing).values_list("name", "pk"))

    def _write(self, batch: list[PlannedRow]) -> None:
        records: list[dict[str, Any]] = []
        creates = [planned for planned in batch if planned.action == CREATE]
        ids = bulk.insert_returning_ids(Contact, [self._contact(planned) for planned in creates])
        for planned, pk in zip(creates, ids, strict=True):
            planned.existing_id = pk
            records.append(
                {"job_id": self.job.pk, "contact_id": pk, "action": ImportedRecord.Action.CREATED, "line": planned.line}
            )
        updates = [planned for planned in batch if planned.action == UPDATE]
        people = creates + updates
        methods: list[dict[str, Any]] = []
        for planned in people:
            # A new contact's first method of each kind is its primary one; an updated
            # contact keeps its own primaries.
            has_primary = set() if planned.action == CREATE else {method.kind for method in planned.methods}
            for method in planned.methods:
                methods.append(
                    {
                        "contact_id": planned.contact_pk,
                        "team_id": self.team_id,
                        "kind": method.kind,
                        "value": method.value,
                        "normalized": method.normalized,
                        "label": method.label,
                        "is_primary": method.kind not in has_primary,
                    }
                )
                has_primary.add(method.kind)
        # A new contact's methods go with it; undo needs the ids of those added to others.
        created = len(methods) - sum(len(planned.methods) for planned in updates)
        bulk.insert(ContactMethod, methods[:created])
        added_methods: dict[int, list[int]] = {}
        added = methods[created:]
        for row, pk in zip(added, bulk.insert_returning_ids(ContactMethod, added), strict=True):
            added_methods.setdefault(row["contact_id"], []).append(pk)
        self._update(updates, added_methods, records)
        links = [
            {"contact_id": planned.contact_pk, "tag_id": self.tags[tag]} for planned in people for tag in planned.tags
        ]
        bulk.insert(Contact.tags.through, links, ignore_conflicts=True)
        now = timezone.now()
        bulk.insert(
            Activity,
            [
                {
                    "contact_id": planned.contact_pk,
                    "occurred_at": now,
                    "kind": Activity.Kind.SYSTEM,
                    "actor_id": self.actor_id,
                    "subject": f"{'Imported' if planned.action == CREATE else 'Updated'} from {self.job.file_name}"[
                        :500
                    ],
                    "source": IMPORT_SOURCE,
                    "payload": {"import_job": self.job.pk, "line": planned.line},
                }
                for planned in people
            ],
        )
        bulk.insert(ImportedRecord, records)
        self._save_progress(batch)

    def _contact(self, planned: PlannedRow) -> dict[str, Any]:
        row = planned.row
        organization = row.organization.casefold()
        return {
            "team_id": self.team_id,
            "owner_id": self.actor_id,
            "first_name": row.first_name,
            "last_name": row.last_name,
            "display_name": planned.name,
            "organization_id": self.organizations.get(organization) if organization else None,
            "title": row.title,
            "location": row.location,
            "notes": row.notes,
        }

    def _update(
        self, updates: list[PlannedRow], added_methods: Mapping[int, list[int]], records: list[dict[str, Any]]
    ) -> None:
        """Fill the matched contacts' empty fields in one statement (planning computed the values),
        recording for each what undo puts back: the values before, the methods and tags added.
        """
        now = timezone.now()
        changed: dict[int, dict[str, Any]] = {}
        for planned in updates:
            changes: dict[str, Any] = dict(planned.changes)
            organization = changes.pop("organization", "")
            if organization:
                changes["organization_id"] = self.organizations[organization.casefold()]
            changed[planned.contact_pk] = {**changes, "updated_at": now}
            reverts = {
                "fields": planned.previous,
                "methods": added_methods.get(planned.contact_pk, []),
                "tags": [self.tags[tag] for tag in planned.tags],
            }
            records.append(
                {
                    "job_id": self.job.pk,
                    "contact_id": planned.contact_pk,
                    "action": ImportedRecord.Action.UPDATED,
                    "line": planned.line,
                    "reverts": reverts,
                }
            )
        rows_update(Contact, changed)


def error_report_csv(rows: list[tuple[int, str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "result", "reason"])
    writer.writerows(sorted(rows))
    return buffer.getvalue()


def import_run(*, job_id: int, batch_size: int = BATCH_SIZE) -> ImportJob | None:
    """Write a confirmed job's rows (the task's body). Runs once: a redelivered task finds it claimed.

    The plan the preview stored is written as it is if the team's contacts are as they were
    when it was made (``import_team_watermark``); otherwise the file is planned again, batch
    by batch. Each batch commits on its own with ``processed_rows``, so the progress bar
    moves and the rows written so far stay (and can be undone) if a later batch fails or
    the import is cancelled (it stops before the next batch). On PostgreSQL two batches are
    written at once, each on a connection of its own (``WRITERS``).
    """
    if not job_claim(ImportJob, job_id, processed_rows=0):
        return None
    job = ImportJob.objects.select_related("team", "created_by").get(pk=job_id)
    writer = _Writer(job)
    stored = job.planned_against == import_team_watermark(job.team_id) and job.plan_batches.exists()
    status = ImportJob.Status.DONE
    first_written = threading.Event()

    def write(batch: list[PlannedRow]) -> bool:
        nonlocal status
        if job_cancelled(ImportJob, job.pk):
            status = ImportJob.Status.CANCELLED
            return False
        writer.write(batch)
        if not first_written.is_set():
            first_written.set()
            # A first batch is in: plan the rest for tables of the size they are growing to.
            bulk.refresh_statistics(GROWN_BY_IMPORT, adding=job.total_rows - job.processed_rows)
        return True

    try:
        with bulk.fewer_collections():
            # The next batch is read (or planned) and checked against the suppression list
            # here while others are written; a batch whose contacts changed meanwhile (a
            # batch before it updated them too) fails its check and is planned again, as ever.
            batches = _stored_batches(job, batch_size) if stored else planned_batches(job, batch_size)
            bulk.write_behind(batches, write, writers=WRITERS)
    except Exception as exc:
        logger.exception("Import %s failed", job.pk)
        _finish(job, writer, ImportJob.Status.FAILED, failure=f"The import stopped: {str(exc)[:300]}")
        raise
    _finish(job, writer, status)
    return job


def _finish(job: ImportJob, writer: _Writer, status: str, failure: str = "") -> None:
    job.failure = failure
    job.counts = dict(writer.counts)
    # Stopped early, the file's size stays the total: "400 of 1,000 rows".
    job.total_rows = job.processed_rows if status == ImportJob.Status.DONE else max(job.total_rows, job.processed_rows)
    job.error_report = error_report_csv(writer.errors)
    job_end(job, status, ["failure", "counts", "total_rows", "error_report"])
    # Written, or to be planned again from the file if tried again: the plan is not needed now.
    job.plan_batches.all().delete()


@transaction.atomic
def import_cancel(*, actor: Any, job: ImportJob) -> ImportJob:
    """Cancel a confirmed import (``contacts.services.jobs.job_cancel``): what was written stays, undoable.

    A queued import ends now, its stored plan deleted as when an import ends; a running one
    when its task reaches the next batch.
    """
    job = job_cancel(actor=actor, job=job, action=ImportAuditAction.IMPORT_CANCELLED)
    if job.finished_at is not None:
        job.plan_batches.all().delete()
    return job


# --- Undo ----------------------------------------------------------------------------------


def _untouched_since(job: ImportJob, contact_ids: list[int]) -> set[int]:
    """Those of ``contact_ids`` nobody changed since ``job`` ran: not edited after it, and
    nothing on their timeline since it was uploaded but the imports' own entries during it.
    """
    unchanged = set(
        Contact.objects.filter(pk__in=contact_ids, updated_at__lte=job.finished_at).values_list("pk", flat=True)
    )
    touched = Activity.objects.filter(contact_id__in=unchanged, created_at__gt=job.created_at).filter(
        ~Q(source=IMPORT_SOURCE) | Q(created_at__gt=job.finished_at)
    )
    return unchanged - set(touched.values_list("contact_id", flat=True))


def _delete_each(queryset: models.QuerySet[Any], ids: list[int]) -> tuple[set[int], set[int]]:
    """(deleted ids, kept ids): rows other data still points to (PROTECT) are kept."""
    try:
        with transaction.atomic():
            queryset.filter(pk__in=ids).delete()
        return set(ids), set()
    except ProtectedError:
        deleted, kept = set(), set()
        for pk in ids:
            try:
                with transaction.atomic():
                    queryset.filter(pk=pk).delete()
                deleted.add(pk)
            except ProtectedError:
                kept.add(pk)
        return deleted, kept


def _revert(job: ImportJob, reverts: Mapping[int, Mapping[str, Any]]) -> None:
    """Put back what ``job`` changed on these existing contacts ({contact id: record's reverts})."""
    now = timezone.now()
    rows_update(Contact, {pk: {**revert["fields"], "updated_at": now} for pk, revert in reverts.items()})
    ContactMethod.objects.filter(
        contact_id__in=list(reverts), pk__in=[pk for revert in reverts.values() for pk in revert["methods"]]
    ).delete()
    tagged: dict[int, list[int]] = {}
    for pk, revert in reverts.items():
        for tag_id in revert["tags"]:
            tagged.setdefault(tag_id, []).append(pk)
    for tag_id, contact_ids in tagged.items():
        Contact.tags.through.objects.filter(tag_id=tag_id, contact_id__in=contact_ids).delete()
    Activity.objects.filter(contact_id__in=list(reverts), source=IMPORT_SOURCE, payload__import_job=job.pk).delete()


@transaction.atomic
def import_undo(*, actor: Any, job: ImportJob) -> dict[str, Any]:
    """Undo ``job`` for the contacts nobody touched since; return what was done and kept.

    A contact is touched if it was edited after the import or has a timeline entry the
    import did not write (a call, an email, a merge); those are left as they are. Untouched,
    a contact the import created is deleted, and one it updated gets back the values of the
    fields it filled in and loses the contact methods and tags it added. Organizations it
    created are deleted when no contact is left in them.
    """
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportJob.Status.DONE, ImportJob.Status.CANCELLED) or job.finished_at is None:
        raise ValidationError("Only a finished or cancelled import can be undone, once.")
    # Checks in chunks: a job may hold 100,000 records.
    records = list(
        job.records.filter(action__in=[ImportedRecord.Action.CREATED, ImportedRecord.Action.UPDATED])
        .exclude(contact=None)
        .values_list("contact_id", "action", "line", "reverts")
    )
    # Merged into another contact or erased since.
    gone = job.records.filter(action=ImportedRecord.Action.CREATED, contact__isnull=True).count()
    deleted: set[int] = set()
    reverted = 0
    kept_lines: list[int] = []
    updated_left = 0
    for start in range(0, len(records), BATCH_SIZE):
        chunk = records[start : start + BATCH_SIZE]
        untouched = _untouched_since(job, [pk for pk, *_ in chunk])
        created = sorted(pk for pk, action, *_ in chunk if action == ImportedRecord.Action.CREATED and pk in untouched)
        # Recorded before undo could revert updates: left as they are.
        reverts = {
            pk: revert
            for pk, action, _, revert in chunk
            if action == ImportedRecord.Action.UPDATED and pk in untouched and revert
        }
        _revert(job, reverts)
        reverted += len(reverts)
        removed, _ = _delete_each(Contact.objects.all(), created)
        deleted |= removed
        for pk, action, line, _ in chunk:
            if action == ImportedRecord.Action.CREATED and pk not in removed:
                kept_lines.append(line)
            elif action == ImportedRecord.Action.UPDATED and pk not in reverts:
                updated_left += 1
    organization_ids = list(
        job.records.filter(action=ImportedRecord.Action.ORGANIZATION_CREATED, organization__isnull=False).values_list(
            "organization_id", flat=True
        )
    )
    empty = Organization.objects.filter(pk__in=organization_ids, contacts__isnull=True, updated_at__lte=job.finished_at)
    organizations_deleted, _ = _delete_each(Organization.objects.all(), list(empty.values_list("pk", flat=True)))
    summary = {
        "deleted": len(deleted),
        "kept": len(kept_lines),
        "kept_lines": sorted(kept_lines)[:200],
        "already_gone": gone,
        "reverted": reverted,
        "updated_left": updated_left,
        "organizations_deleted": len(organizations_deleted),
    }
    job.status = ImportJob.Status.UNDONE
    job.undone_at = timezone.now()
    job.undo_summary = summary
    job.content = ""  # nothing left to import again; the error report stays
    job.save(update_fields=["status", "undone_at", "undo_summary", "content", "updated_at"])
    audit_record(actor=actor, action=ImportAuditAction.IMPORT_UNDONE, object_type="import_job", object_id=job.pk)
    return summary


def import_traces_erase(contact: Contact) -> None:
    """Erasure: forget which imports touched ``contact`` and which merged ids led to it."""
    ImportedRecord.objects.filter(contact=contact).delete()
    ContactRedirect.objects.filter(contact=contact).delete()
