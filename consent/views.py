"""Pages of the consent app: the contact's consent and preferences, receipts, the DPO console."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails

from consent import selectors, services
from consent.forms import ConsentRecordForm, PrivacyPreferenceForm, PurposeForm
from consent.receipts import consent_receipt
from contacts.models import Contact
from contacts.registry import contact_privacy
from contacts.selectors import contact_get
from socialcrm import roles
from socialcrm.audit.registry import Action as AuditAction
from socialcrm.audit.services import audit_record

dpo_required = roles.role_required(roles.Role.DPO)
# Jinja2 templates (templates/jinja2/): their output is marked safe where a page shows it.
CONSENT_PANEL_TEMPLATE = "consent/partials/consent_panel.html"
CONSENT_RECORD_FORM_TEMPLATE = "consent/partials/consent_record_form.html"
PREFERENCES_PANEL_TEMPLATE = "consent/partials/preferences_panel.html"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _record_form(contact: Contact) -> ConsentRecordForm:
    # Without JavaScript, recording lands back on the contact page.
    return ConsentRecordForm(initial={"next": reverse("contacts:detail", kwargs={"pk": contact.pk})})


def _consent_panel_context(
    contact: Contact,
    form: ConsentRecordForm | None = None,
    recorded: str = "",
    *,
    with_history: bool = True,
    form_on_open: bool = False,
) -> dict[str, Any]:
    """With ``form_on_open`` the record form is left out: the panel loads it when its
    disclosure is opened (``consent_record``'s GET), or links to the consent page."""
    return {
        "recorded": recorded,
        "contact": contact,
        "contact_name": contact_privacy(contact).name_for(contact),
        "rows": selectors.consent_panel_rows(contact),
        "history": selectors.consent_history(contact) if with_history else None,
        "form": None if form_on_open else form or _record_form(contact),
    }


def _audit_view(request: HttpRequest, contact: Contact) -> None:
    # The consent and preferences pages show the person's data: a view of the contact, once per page.
    audit_record(actor=request.user, action=AuditAction.CONTACT_VIEWED, object_type="contact", object_id=contact.pk)


def consent_panel(request: HttpRequest, contact: Contact) -> SafeString:
    """The contact page's consent panel (registered in ConsentConfig.ready).

    Its data is the one ``consent_snapshot`` query the header card's privacy rules already
    made; the ledger's records and receipts are a link away (the history is on the timeline).
    Its record form, folded away in a disclosure, is loaded when opened: building and
    rendering it was the panel's largest cost on every contact page view.
    """
    return _consent_panel(request, _consent_panel_context(contact, with_history=False, form_on_open=True))


def preferences_panel(request: HttpRequest, contact: Contact) -> SafeString:
    """The contact page's privacy-preferences summary (registered in ConsentConfig.ready)."""
    context = {"contact": contact, "preference": selectors.preference_for(contact)}
    return mark_safe(render_to_string(PREFERENCES_PANEL_TEMPLATE, context, request))  # noqa: S308 - an autoescaping engine's output


def _consent_panel(request: HttpRequest, context: dict[str, Any]) -> SafeString:
    return mark_safe(render_to_string(CONSENT_PANEL_TEMPLATE, context, request))  # noqa: S308 - an autoescaping engine's output


def _consent_page(request: HttpRequest, contact: Contact, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The consent page: both panels (Jinja2 templates, which the page shows rendered)."""
    _audit_view(request, contact)
    context["consent_panel"] = _consent_panel(request, context)
    context["preferences_panel"] = preferences_panel(request, contact)
    return render(request, "consent/contact_consent.html", context, status=status)


@require_GET
@roles.staff_required
def contact_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """The consent panel as a page of its own (where recording lands without JavaScript)."""
    contact = contact_get(user=request.user, pk=pk)
    return _consent_page(request, contact, _consent_panel_context(contact))


@require_http_methods(["GET", "POST"])
@roles.staff_required
def consent_record(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Record a grant, withdrawal, objection, restriction or lift for the contact.

    GET answers the form alone, for the contact page's panel when its disclosure is opened
    (htmx); other GETs go to the consent page, which shows it.
    """
    contact = contact_get(user=request.user, pk=pk)
    if request.method == "GET":
        if not request.htmx:
            return redirect("consent:contact_consent", pk=contact.pk)
        return render(request, CONSENT_RECORD_FORM_TEMPLATE, {"contact": contact, "form": _record_form(contact)})
    form = ConsentRecordForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            event = services.consent_record(
                actor=request.user,  # type: ignore[arg-type]
                contact=contact,
                purpose=data["purpose"],
                action=data["action"],
                source=data["source"],
                evidence=data["evidence"],
                notice_version=data["notice_version"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            recorded = f"Recorded: {data['purpose'].name}, {event.get_action_display().lower()}."
            if request.htmx:
                context = _consent_panel_context(contact, recorded=recorded)
                return render(request, CONSENT_PANEL_TEMPLATE, context)
            messages.success(request, recorded)
            target = data["next"]
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
                target = reverse("consent:contact_consent", kwargs={"pk": contact.pk})
            return redirect(target)
    context = _consent_panel_context(contact, form)
    if request.htmx:
        return render(request, CONSENT_PANEL_TEMPLATE, context, status=422)
    return _consent_page(request, contact, context, status=422)


@require_GET
@roles.staff_required
def receipt(request: HttpRequest, receipt_id: str) -> HttpResponse:
    """Download one ledger event as a Kantara consent receipt (JSON).

    Audited as an export of the contact's data (``contact.exported``): a receipt carries
    the person's identifier and leaves the system with them or the DPO.
    """
    event = selectors.consent_event_get(user=request.user, receipt_id=receipt_id)
    audit_record(
        actor=request.user, action=AuditAction.CONTACT_EXPORTED, object_type="contact", object_id=event.contact_id
    )
    response = HttpResponse(
        json.dumps(consent_receipt(event), indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="consent-receipt-{event.receipt_id}.json"'
    return response


@require_http_methods(["GET", "POST"])
@roles.staff_required
def preferences(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the contact's privacy preferences."""
    contact = contact_get(user=request.user, pk=pk)
    preference = selectors.preference_for(contact)
    form = PrivacyPreferenceForm(request.POST or None, initial=PrivacyPreferenceForm.initial_for(preference))
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_update(actor=request.user, contact=contact, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Privacy preferences saved.")
            return redirect("consent:contact_consent", pk=contact.pk)
    _audit_view(request, contact)
    context = {"contact": contact, "contact_name": contact_privacy(contact).name_for(contact), "form": form}
    return render(request, "consent/preferences.html", context, status=422 if form.errors else 200)


@require_GET
@dpo_required
def console(request: HttpRequest) -> HttpResponse:
    """The DPO's home: consent per purpose, recent withdrawals and objections, missing assessments."""
    return render(request, "consent/console.html", {"overview": selectors.console_overview()})


@require_GET
@dpo_required
def purposes(request: HttpRequest) -> HttpResponse:
    return render(request, "consent/purposes.html", {"purposes": selectors.purpose_list()})


@require_http_methods(["GET", "POST"])
@dpo_required
def purpose_edit(request: HttpRequest, code: str) -> HttpResponse:
    purpose = selectors.purpose_get(code=code)
    form = PurposeForm(request.POST or None, initial=PurposeForm.initial_for(purpose))
    if request.method == "POST" and form.is_valid():
        try:
            services.purpose_update(actor=request.user, purpose=purpose, changes=form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Purpose “{purpose.name}” saved.")
            return redirect("consent:purposes")
    return render(
        request, "consent/purpose_edit.html", {"purpose": purpose, "form": form}, status=422 if form.errors else 200
    )
