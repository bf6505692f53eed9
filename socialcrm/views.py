from __future__ import annotations

from allauth.account.utils import perform_login
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from socialcrm import roles, selectors, services
from socialcrm.forms import AcceptInvitationForm, InvitationForm
from socialcrm.models import User
from socialcrm.registry import home_sections


@require_GET
@roles.staff_required
def home(request: HttpRequest) -> HttpResponse:
    # The apps fill the home page through socialcrm.registry.register_home_section.
    sections = [
        (section.name, html)
        for section in home_sections()
        if section.visible_to(request.user) and (html := section.render(request))
    ]
    return render(request, "socialcrm/home.html", {"sections": sections})


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.Role.MANAGER)
def invitations(request: HttpRequest) -> HttpResponse:
    """Managers invite into the teams they manage; administrators invite anyone."""
    user: User = request.user  # type: ignore[assignment]
    form = InvitationForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                actor=user,
                email=form.cleaned_data["email"],
                role=roles.Role(form.cleaned_data["role"]),
                team=form.cleaned_data["team"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or "You cannot send this invitation.")
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("team:invitations")
    sent = selectors.invitation_list(user=user)[:100]
    return render(request, "socialcrm/invitations.html", {"form": form, "invitations": sent})


def _invitation_invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "socialcrm/invitation_invalid.html", status=404)


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the link's signed token is the permission. The person sets a password and is signed in."""
    invitation = selectors.invitation_from_link(token=token)
    if invitation is None:
        return _invitation_invalid(request)
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                invitation=invitation,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ValidationError:
            # Used or expired between showing the form and submitting it.
            return _invitation_invalid(request)
        messages.success(request, "Welcome to Social CRM. Consider turning on two-factor authentication.")
        return perform_login(request, user, email=user.email, redirect_url=reverse("home"))
    return render(request, "socialcrm/accept_invitation.html", {"form": form, "invitation": invitation})
