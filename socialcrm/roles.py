"""Roles are Django groups; every role check in the project goes through this module."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


class Role(models.TextChoices):
    SALES = "Sales", "Sales"
    MANAGER = "Manager", "Manager"
    DPO = "Data protection officer", "Data protection officer"


# The Django permissions each role's group holds (used by the admin); role checks in
# views go by group membership through the helpers below.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.SALES: ("socialcrm.view_team",),
    Role.MANAGER: ("socialcrm.view_team", "socialcrm.add_invitation", "socialcrm.view_invitation"),
    Role.DPO: ("socialcrm.view_team", "socialcrm.view_user"),
}


def ensure_role_groups(group_model: Any, permission_model: Any) -> None:
    """Create any missing role group and grant each group its permissions (idempotent).

    Runs after every migrate, so a permission added to ``ROLE_PERMISSIONS`` reaches
    existing databases; permissions an administrator added by hand are kept. Takes the
    models as arguments so the data migration can pass its historical ones.
    """
    for role, permissions in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role.value)
        for dotted in permissions:
            app_label, codename = dotted.split(".")
            group.permissions.add(permission_model.objects.get(content_type__app_label=app_label, codename=codename))


def role_names(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role names, read once per user object."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        user._role_names = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: Role) -> bool:
    """True when the user holds any of ``roles``. Superusers hold every role."""
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    names = role_names(user)
    return any(role.value in names for role in roles)


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    """An administrator (a superuser): every role, every team."""
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_superuser", False))


def is_sales(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, Role.SALES)


def is_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, Role.MANAGER)


def is_dpo(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, Role.DPO)


def is_staff_member(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Anyone with a working role: the people who may use the CRM at all."""
    return has_role(user, Role.SALES, Role.MANAGER, Role.DPO)


def can_invite(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, Role.MANAGER)


def role_required(*roles: Role) -> Callable[[ViewFunc], ViewFunc]:
    """View decorator: anonymous users go to the login page, others without the role get 403."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


staff_required = role_required(Role.SALES, Role.MANAGER, Role.DPO)
