"""Email into the timeline: uploads, the dropbox webhook, threads and mailbox settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts.email import dropbox
from contacts.email.forms import EmailUploadForm, MailboxConnectionForm, TeamMailSettingsForm
from contacts.email.ingest import EmailAuditAction, IngestResult, Source, email_ingest
from contacts.email.selectors import (
    dropbox_contacts,
    dropbox_forwarders,
    email_thread,
    email_upload_job_get,
    mailbox_of,
    managed_team_get,
    recent_email_upload_jobs,
    recent_threads,
    teams_mail_settings,
    thread_person,
)
from contacts.email.services import (
    dropbox_token_rotate,
    email_upload_cancel,
    email_upload_log,
    email_upload_queue,
    mailbox_connect,
    mailbox_disconnect,
    team_mail_settings_update,
)
from contacts.models import Contact, Organization
from contacts.registry import contact_privacy
from contacts.selectors import activity_get, contact_get, organization_get
from contacts.views.detail import can_log, in_user_timezone
from contacts.views.jobs import job_cancel_answer
from contacts.views.lists import HtmxHttpRequest
from socialcrm import roles
from socialcrm.audit.registry import Action
from socialcrm.audit.services import audit_record

# Mailboxes, uploads and dropboxes are sales work (the people who write the mail); the DPO reads threads.
works_with_mail = roles.role_required(roles.Role.SALES, roles.Role.MANAGER)


def handles_mail(user: Any) -> bool:
    """Who sees the Email navigation item."""
    return roles.has_role(user, roles.Role.SALES, roles.Role.MANAGER)


def email_panel(request: HttpRequest, contact: Contact) -> SafeString:
    """The contact page's email panel: awaiting reply, recent threads, upload (``register_contact_panel``)."""
    context = {
        "contact": contact,
        "threads": recent_threads(contact=contact),
        "may_upload": roles.has_role(request.user, roles.Role.SALES, roles.Role.MANAGER),
    }
    html = render_to_string("contacts/partials/email_panel.html", context, request=request)
    return mark_safe(html)  # noqa: S308 - an autoescaping engine's output


def _target(request: HttpRequest, pk: int | None, organization_pk: int | None) -> Contact | Organization | None:
    """What the upload is about: a contact, an organization, or (None) every contact the user sees."""
    if pk is not None:
        return contact_get(user=request.user, pk=pk)
    if organization_pk is not None:
        return organization_get(user=request.user, pk=organization_pk)
    return None


def _back_url(target: Contact | Organization | None) -> str:
    if isinstance(target, Contact):
        return reverse("contacts:detail", kwargs={"pk": target.pk})
    if isinstance(target, Organization):
        return reverse("contacts:organization_detail", kwargs={"pk": target.pk})
    return reverse("contacts:list")


@require_http_methods(["GET", "POST"])
@can_log
def email_upload(request: HttpRequest, pk: int | None = None, organization_pk: int | None = None) -> HttpResponse:
    """Upload an .eml or .mbox: each message is logged on the matching people in scope.

    A small file is logged within the request and the result shown here; a larger one
    (over ``EMAIL_UPLOAD_SYNC_BYTES``) becomes a background job and the browser goes to its
    progress page.
    """
    target = _target(request, pk, organization_pk)
    form = EmailUploadForm(request.POST or None, request.FILES or None)
    result: IngestResult | None = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.EMAIL_UPLOAD_SYNC_BYTES:
            job = email_upload_queue(actor=request.user, target=target, file_name=upload.name, data=upload.read())
            return redirect("contacts:email_upload_job", pk=job.pk)
        result = email_upload_log(actor=request.user, target=target, stream=upload.file)
        form = EmailUploadForm()
    context = {
        "form": form,
        "target": target,
        "result": result,
        "back_url": _back_url(target),
        "jobs": recent_email_upload_jobs(user=request.user),
        "sync_limit": settings.EMAIL_UPLOAD_SYNC_BYTES,
    }
    return render(request, "contacts/email_upload.html", context)


@require_GET
@can_log
def email_upload_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A large upload being logged in the background: its progress, then its summary or why it failed."""
    job = email_upload_job_get(user=request.user, pk=pk)
    target = job.contact or job.organization
    context = {"job": job, "target": target, "back_url": _back_url(target)}
    return render(request, "contacts/email_upload_job.html", context)


@require_GET
@can_log
def email_upload_progress(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The progress fragment htmx polls every second while the upload is logged."""
    job = email_upload_job_get(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("contacts:email_upload_job", pk=job.pk)
    return render(request, "contacts/partials/email_upload_progress.html", {"job": job})


@require_POST
@can_log
def email_upload_job_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Cancel a background upload: at once while it waits for a worker, else after the batch being logged."""
    job = email_upload_job_get(user=request.user, pk=pk)
    return job_cancel_answer(
        request,
        job,
        email_upload_cancel,
        fragment="contacts/partials/email_upload_progress.html",
        context=lambda job: {"job": job},
        page="contacts:email_upload_job",
    )


@csrf_exempt
@require_POST
def inbound_email(request: HttpRequest, token: str) -> HttpResponse:
    """The team dropbox: a relay POSTs one raw message, signed (see contacts/email/dropbox.py).

    Public (no session): the signature is the credential. Checks, cheapest first: size
    (413), signature and timestamp (403), the team's token (404), replay (409).
    """
    limit = settings.EMAIL_MAX_MESSAGE_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return JsonResponse({"error": "message too large"}, status=413)
    # Read the stream ourselves: request.body would refuse anything over DATA_UPLOAD_MAX_MEMORY_SIZE.
    body = request.read(limit + 1)
    if len(body) > limit:
        return JsonResponse({"error": "message too large"}, status=413)
    try:
        signed = dropbox.verify(body, request.headers.get(dropbox.SIGNATURE_HEADER, ""))
    except dropbox.SignatureError as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    team = dropbox.dropbox_team(token)
    if team is None:
        return JsonResponse({"error": "unknown dropbox"}, status=404)
    # One transaction: a delivery that fails to log is not remembered, so the relay's retry gets in.
    with transaction.atomic():
        try:
            dropbox.claim_delivery(team, signed)
        except dropbox.ReplayError as exc:
            return JsonResponse({"error": str(exc)}, status=409)
        forwarders = dropbox_forwarders(team)
        result = email_ingest(
            actor=None,
            source=Source.DROPBOX,
            raw_messages=[body],
            contacts=dropbox_contacts(team),
            # The team's people write outbound mail, and their forwards stand for the original.
            own_addresses=forwarders.addresses,
            max_bytes=limit,
            forwarders=forwarders,
        )
    if result.entries_created:
        audit_record(actor=None, action=EmailAuditAction.LOGGED, object_type="team", object_id=team.pk)
    return JsonResponse(result.as_dict())


@require_GET
@roles.staff_required
@in_user_timezone
def thread(request: HttpRequest, pk: int) -> HttpResponse:
    """One email conversation with a contact, oldest first."""
    activity = activity_get(user=request.user, pk=pk)
    audit_record(actor=request.user, action=Action.CONTACT_VIEWED, object_type="contact", object_id=activity.contact_id)
    # The person's privacy rules: the name they chose, their address left out if withheld.
    privacy = contact_privacy(activity.contact)
    entries = email_thread(user=request.user, activity=activity, person=thread_person(activity.contact, privacy))
    context = {
        "contact": activity.contact,
        "contact_name": privacy.name_for(activity.contact),
        "entries": entries,
        "current": activity,
    }
    return render(request, "contacts/thread.html", context)


@require_http_methods(["GET", "POST"])
@works_with_mail
def mailbox_settings(request: HttpRequest) -> HttpResponse:
    """Connect one's own mailbox over IMAP; see the team dropboxes and their own domains."""
    connection = mailbox_of(request.user)
    form = MailboxConnectionForm(
        request.POST or None,
        initial={
            "host": connection.host,
            "port": connection.port,
            "security": MailboxConnectionForm.IMAPS if connection.use_ssl else MailboxConnectionForm.STARTTLS,
            "username": connection.username,
        }
        if connection
        else None,
    )
    if request.method == "POST" and form.is_valid():
        mailbox_connect(actor=request.user, **form.connection_settings())
        messages.success(request, "Mailbox connected: new mail is fetched every few minutes.")
        return redirect("contacts:mailbox_settings")
    teams = [
        (
            team_mail,
            TeamMailSettingsForm(
                initial={"own_domains": ", ".join(team_mail.settings.own_domains if team_mail.settings else [])},
                auto_id=f"team{team_mail.team.pk}_%s",
            ),
        )
        for team_mail in teams_mail_settings(user=request.user)
    ]
    context = {"form": form, "connection": connection, "teams": teams}
    return render(request, "contacts/mailbox_settings.html", context)


@require_POST
@works_with_mail
def mailbox_remove(request: HttpRequest) -> HttpResponse:
    if mailbox_disconnect(actor=request.user):
        messages.success(request, "Mailbox disconnected; its password is deleted.")
    return redirect("contacts:mailbox_settings")


@require_POST
@works_with_mail
def team_mail_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager sets the team's own domains, or gives its dropbox a new secret address."""
    team = managed_team_get(user=request.user, pk=pk)
    if "rotate" in request.POST:
        dropbox_token_rotate(actor=request.user, team=team)
        messages.success(request, f"{team.name} has a new dropbox address; the old one no longer works.")
        return redirect("contacts:mailbox_settings")
    form = TeamMailSettingsForm(request.POST)
    if form.is_valid():
        team_mail_settings_update(actor=request.user, team=team, own_domains=form.cleaned_data["own_domains"])
        messages.success(request, f"Email domains of {team.name} saved.")
    else:
        errors: list[str] = [str(error) for error in form.errors.get("own_domains") or ["Check the domains."]]
        messages.error(request, " ".join(errors))
    return redirect("contacts:mailbox_settings")
