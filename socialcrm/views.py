from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from socialcrm import roles, services
from socialcrm.forms import AcceptInvitationForm, InvitationForm
from socialcrm.models import Invitation


@require_GET
@roles.staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "socialcrm/home.html")


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.Role.MANAGER)
def invitations(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = InvitationForm(request.POST or None, user=user)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                actor=user,  # type: ignore[arg-type]
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
    sent = Invitation.objects.select_related("team", "invited_by")
    if not user.is_superuser:
        sent = sent.filter(team__in=user.managed_teams.all())  # type: ignore[union-attr]
    return render(request, "socialcrm/invitations.html", {"form": form, "invitations": sent[:100]})


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the invited person sets a password and is signed in."""
    invitation = Invitation.from_token(token)
    if invitation is None or not invitation.is_usable:
        raise Http404("This invitation link is invalid, has expired or was already used.")
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        user = services.invitation_accept(
            invitation=invitation,
            password=form.cleaned_data["password1"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
        )
        login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
        messages.success(request, "Welcome to Social CRM. Consider turning on two-factor authentication.")
        return redirect("home")
    return render(request, "socialcrm/accept_invitation.html", {"form": form, "invitation": invitation})
