"""Reads of contact imports, scoped to the teams the user sees."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from contacts.models import Contact, ContactRedirect, ImportedRecord, ImportJob
from contacts.selectors import visible_team_ids


def visible_import_jobs(user: Any) -> QuerySet[ImportJob]:
    """Imports into the teams ``user`` sees (teammates see each other's), newest first."""
    team_ids = visible_team_ids(user)
    jobs = ImportJob.objects.all() if team_ids is None else ImportJob.objects.filter(team_id__in=team_ids)
    return jobs.select_related("team", "created_by").defer("content", "error_report")


def import_job_get(*, user: Any, pk: int) -> ImportJob:
    """The import ``pk`` if it went into a team ``user`` sees; Http404 otherwise."""
    job = visible_import_jobs(user).filter(pk=pk).first()
    if job is None:
        raise Http404("No such import.")
    return job


def import_error_report(*, user: Any, pk: int) -> tuple[ImportJob, str]:
    """The import ``pk`` (as ``import_job_get``) and its report of rows not imported, as CSV text.

    The report is deferred when listing jobs (it can be large), so it is read on its own here.
    """
    job = import_job_get(user=user, pk=pk)
    report = ImportJob.objects.filter(pk=job.pk).values_list("error_report", flat=True).first()
    return job, report or ""


def recent_import_jobs(*, user: Any, limit: int = 20) -> list[ImportJob]:
    """The latest imports into the user's teams (one query)."""
    return list(visible_import_jobs(user).order_by("-created_at", "-id")[:limit])


def import_traces_export(contact: Any) -> dict[str, Any]:
    """What the import and merge records hold about ``contact`` (personal-data export): ids only."""
    return {
        "imports": list(
            ImportedRecord.objects.filter(contact=contact)
            .order_by("id")
            .values("job_id", "job__file_name", "job__created_at", "action", "line")
        ),
        "merged_contact_ids": sorted(ContactRedirect.objects.filter(contact=contact).values_list("old_id", flat=True)),
    }


def _reverted_changes(reverts: dict[str, Any]) -> str:
    """What undo puts back on one updated contact, in words ("title, notes; 1 contact method, 2 tags")."""
    changed = reverts.get("fields", {})
    fields = [str(field.verbose_name) for field in Contact._meta.concrete_fields if field.attname in changed]
    added = [
        f"{count} {noun}{'' if count == 1 else 's'}"
        for noun, count in (("contact method", len(reverts.get("methods", []))), ("tag", len(reverts.get("tags", []))))
        if count
    ]
    return "; ".join(part for part in (", ".join(fields), ", ".join(added)) if part)


def import_undo_outline(job: ImportJob, *, examples: int = 5) -> dict[str, Any]:
    """What undoing ``job`` would do at most (contacts changed since are left): two queries.

    ``created``: contacts to delete; ``updated``: existing contacts to put back, with
    ``examples`` of them (name and what goes back); ``organizations``: organizations to
    delete once empty.
    """
    Action = ImportedRecord.Action
    revertible = Q(action=Action.UPDATED, contact__isnull=False) & ~Q(reverts={})
    counts = job.records.aggregate(
        created=Count("id", filter=Q(action=Action.CREATED, contact__isnull=False)),
        updated=Count("id", filter=revertible),
        organizations=Count("id", filter=Q(action=Action.ORGANIZATION_CREATED, organization__isnull=False)),
    )
    shown = job.records.filter(revertible).order_by("line").values_list("contact__display_name", "reverts")
    return {
        **counts,
        "examples": [{"name": name, "changes": _reverted_changes(reverts)} for name, reverts in shown[:examples]],
    }
