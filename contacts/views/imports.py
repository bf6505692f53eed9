"""Importing contacts from a file (upload, preview, mapping, progress, summary, undo) and exporting a list."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import exporting
from contacts.filters import list_query
from contacts.forms_imports import ImportMappingForm, ImportUploadForm
from contacts.importing.detect import FORMAT_LABELS, GENERIC
from contacts.models import ImportJob
from contacts.selectors import contact_list, visible_teams
from contacts.selectors_imports import import_error_report, import_job_get, import_undo_outline, recent_import_jobs
from contacts.services import imports as services
from contacts.views.jobs import job_cancel_answer
from contacts.views.lists import HtmxHttpRequest
from socialcrm import roles

# Importing creates contacts: the people who edit them (sales, managers; not the DPO).
can_import = roles.role_required(roles.Role.SALES, roles.Role.MANAGER)


@require_http_methods(["GET", "POST"])
@can_import
def import_start(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None, teams=visible_teams(request.user))
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_preview(
                actor=request.user,
                team=form.cleaned_data["team"],
                file_name=upload.name,
                # One byte more than allowed is enough to refuse it, without reading it all.
                data=upload.read(settings.IMPORT_MAX_BYTES + 1),
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages[0])
        else:
            return redirect("contacts:import_detail", pk=job.pk)
    status = 422 if form.is_bound else 200
    context = {"form": form, "jobs": recent_import_jobs(user=request.user)}
    return render(request, "contacts/import_start.html", context, status=status)


def _mapping_form(request: HttpRequest, job: ImportJob) -> ImportMappingForm | None:
    if job.format != GENERIC or job.status != ImportJob.Status.PREVIEW:
        return None
    return ImportMappingForm(
        request.POST if request.method == "POST" else None,
        headers=services.job_headers(job),
        initial_mapping=job.mapping,
    )


def _progress_context(job: ImportJob) -> dict[str, object]:
    """What the progress fragment shows: the job, and once it is done (or cancelled after some rows), what
    undoing it would do."""
    undoable = job.status == ImportJob.Status.DONE or (
        job.status == ImportJob.Status.CANCELLED and job.finished_at is not None and job.processed_rows > 0
    )
    return {"job": job, "undo": import_undo_outline(job) if undoable else None}


@require_GET
@can_import
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview before confirming, the progress while importing, the summary after."""
    job = import_job_get(user=request.user, pk=pk)
    context: dict[str, object] = {**_progress_context(job), "format_label": FORMAT_LABELS.get(job.format, job.format)}
    if job.status == ImportJob.Status.PREVIEW:
        counts, rows = services.import_preview_rows(job=job)
        context.update(counts=counts, rows=rows, mapping_form=_mapping_form(request, job))
    return render(request, "contacts/import_detail.html", context)


@require_POST
@can_import
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = import_job_get(user=request.user, pk=pk)
    form = _mapping_form(request, job)
    if form is None:
        return redirect("contacts:import_detail", pk=job.pk)
    if form.is_valid():
        try:
            services.import_set_mapping(actor=request.user, job=job, mapping=form.mapping())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Columns mapped. Check the preview below.")
            return redirect("contacts:import_detail", pk=job.pk)
    counts, rows = services.import_preview_rows(job=job)
    context = {
        "job": job,
        "format_label": FORMAT_LABELS[job.format],
        "counts": counts,
        "rows": rows,
        "mapping_form": form,
    }
    return render(request, "contacts/import_detail.html", context, status=422)


@require_POST
@can_import
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    job = import_job_get(user=request.user, pk=pk)
    services.import_commit(actor=request.user, job=job)
    return redirect("contacts:import_detail", pk=job.pk)


@require_GET
@can_import
def import_progress(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The progress fragment htmx polls every second while the import runs."""
    job = import_job_get(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("contacts:import_detail", pk=job.pk)
    return render(request, "contacts/partials/import_progress.html", _progress_context(job))


@require_POST
@can_import
def import_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Cancel a confirmed import: at once while it waits for a worker, else after the batch being written."""
    job = import_job_get(user=request.user, pk=pk)
    return job_cancel_answer(
        request,
        job,
        services.import_cancel,
        fragment="contacts/partials/import_progress.html",
        context=_progress_context,
        page="contacts:import_detail",
    )


@require_GET
@can_import
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The rows that were not imported, as CSV: line number, result, reason."""
    job, report = import_error_report(user=request.user, pk=pk)
    response = HttpResponse(report or "line,result,reason\r\n", content_type="text/csv; charset=utf-8")
    name = slugify(job.file_name.rsplit(".", 1)[0]) or "import"
    response["Content-Disposition"] = f'attachment; filename="{name}-not-imported.csv"'
    return response


@require_POST
@can_import
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    job = import_job_get(user=request.user, pk=pk)
    try:
        summary = services.import_undo(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        kept = f" {summary['kept']} changed since were kept." if summary["kept"] else ""
        reverted = f" {summary['reverted']} updated contacts put back as they were." if summary["reverted"] else ""
        messages.success(request, f"Import undone: {summary['deleted']} contacts deleted.{kept}{reverted}")
    return redirect("contacts:import_detail", pk=job.pk)


# --- Export -------------------------------------------------------------------------------------


@require_GET
@roles.staff_required
def contact_export_confirm(request: HttpRequest) -> HttpResponse:
    """Before the download: how many contacts of the filtered list the export for ``?purpose=``
    writes, and how many the processing gate leaves out, with the download links.
    """
    purpose = request.GET.get("purpose", exporting.DEFAULT_EXPORT_PURPOSE)
    if purpose not in exporting.EXPORT_PURPOSES:
        return HttpResponseBadRequest("Unknown export purpose.")
    exported, excluded = exporting.export_counts(contact_list(user=request.user, filters=request.GET), purpose=purpose)
    query = list_query(request.GET)
    context = {
        "purpose": purpose,
        "purpose_label": exporting.EXPORT_PURPOSES[purpose],
        "exported": exported,
        "excluded": excluded,
        "query": query,
        "download_query": list_query(request.GET, purpose=purpose),
    }
    return render(request, "contacts/export_confirm.html", context)


# The role decorators are typed for HttpResponse; this view streams.
@require_GET  # type: ignore[type-var]
@roles.staff_required
def contact_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The contact list, filtered by the list page's query string, as CSV or vCard 4.0 (streamed),
    for the purpose in ``?purpose=`` (sales outreach by default).

    The people the processing gate refuses for that purpose are left out; how many is in the
    ``X-Excluded-Count`` header (sent before the body, so the gate is asked first).
    """
    purpose = request.GET.get("purpose", exporting.DEFAULT_EXPORT_PURPOSE)
    if purpose not in exporting.EXPORT_PURPOSES:
        return HttpResponseBadRequest("Unknown export purpose.")
    contacts = contact_list(user=request.user, filters=request.GET)
    export = exporting.contacts_export(contacts, fmt=fmt, purpose=purpose, request=request, actor=request.user)
    content_type, extension = ("text/vcard", "vcf") if fmt == "vcard" else ("text/csv", "csv")
    response = StreamingHttpResponse(export.body, content_type=f"{content_type}; charset=utf-8")
    suffix = "" if purpose == exporting.DEFAULT_EXPORT_PURPOSE else f"-{purpose.replace('_', '-')}"
    response["Content-Disposition"] = f'attachment; filename="contacts{suffix}.{extension}"'
    response["X-Export-Purpose"] = purpose
    response["X-Excluded-Count"] = str(export.excluded)
    response["Cache-Control"] = "no-store"
    return response
