"""Audit hooks on Django's own events: sign-ins, failed sign-ins, roles and teams.

Signals are the right tool here: ``django.contrib.auth`` and allauth cannot know about the
audit trail. Other apps call ``audit_record`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.http import HttpRequest

from socialcrm.audit.middleware import current_request
from socialcrm.audit.registry import Action
from socialcrm.audit.services import audit_record, audit_record_many, event_spec
from socialcrm.models import Team

# User fields whose change alters what the account may do.
ACCESS_FLAGS = ("is_active", "is_staff", "is_superuser")


def _request_actor() -> Any:
    # m2m_changed and save signals carry no user: the acting user is the one signed in to
    # the request being handled (an admin page), or nobody for shell and task changes.
    request = current_request()
    return getattr(request, "user", None)


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=Action.USER_LOGIN, object_type="user", object_id=user.pk, request=request)


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The credentials hold the typed email address: it is used only to find the account's
    # id, never stored. A failed attempt for an unknown address records no object.
    user_model = get_user_model()
    login = credentials.get(user_model.USERNAME_FIELD) or credentials.get("username") or ""
    account_id = (
        user_model._default_manager.filter(**{f"{user_model.USERNAME_FIELD}__iexact": login})
        .values_list("pk", flat=True)
        .first()
        if isinstance(login, str) and login
        else None
    )
    audit_record(
        actor=None,
        action=Action.USER_LOGIN_FAILED,
        object_type="user" if account_id else "",
        object_id=account_id or "",
        request=request,
    )


def _record_for_users(action: str, user_ids: Iterable[int]) -> None:
    # One INSERT however many users one change touched.
    actor = _request_actor()
    specs = [event_spec(actor=actor, action=action, object_type="user", object_id=pk) for pk in sorted(user_ids)]
    audit_record_many(specs)


def _m2m_receiver(action_code: str, *, user_side: str, forward_accessor: str, reverse_accessor: str) -> Any:
    """A receiver recording ``action_code`` for each user an m2m change touched.

    ``user_side`` says which end of the relation the users are on ("forward": the model
    declaring the field is the user, as in user.groups; "reverse": as in team.members).
    The accessors are the related managers on the forward and reverse instances.
    """

    def receiver(
        sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
    ) -> None:
        instance_is_user = reverse != (user_side == "forward")
        accessor = getattr(instance, reverse_accessor if reverse else forward_accessor)
        if action in {"post_add", "post_remove"}:
            # pk_set holds the ids actually added or removed (empty when nothing changed).
            user_ids = ([instance.pk] if pk_set else []) if instance_is_user else sorted(pk_set or ())
        elif action == "pre_clear":
            user_ids = (
                ([instance.pk] if accessor.exists() else [])
                if instance_is_user
                else list(accessor.values_list("pk", flat=True))
            )
        else:
            return
        _record_for_users(action_code, user_ids)

    return receiver


# user.groups.add(group) / group.user_set.add(user)
on_groups_changed = _m2m_receiver(
    Action.ROLE_CHANGED, user_side="forward", forward_accessor="groups", reverse_accessor="user_set"
)
# team.members.add(user) / user.teams.add(team), and the same for managers
on_team_members_changed = _m2m_receiver(
    Action.TEAM_MEMBERSHIP_CHANGED, user_side="reverse", forward_accessor="members", reverse_accessor="teams"
)
on_team_managers_changed = _m2m_receiver(
    Action.TEAM_MEMBERSHIP_CHANGED, user_side="reverse", forward_accessor="managers", reverse_accessor="managed_teams"
)


def on_user_pre_save(sender: Any, instance: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
    # Saves that name their fields and leave the flags alone (last_login on every sign-in)
    # cost no query.
    if instance._state.adding or (update_fields is not None and not set(update_fields) & set(ACCESS_FLAGS)):
        return
    before = sender._default_manager.filter(pk=instance.pk).values(*ACCESS_FLAGS).first()
    instance._audit_flags_changed = before is not None and any(
        before[flag] != getattr(instance, flag) for flag in ACCESS_FLAGS
    )


def on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if getattr(instance, "_audit_flags_changed", False):
        instance._audit_flags_changed = False
        _record_for_users(Action.ROLE_CHANGED, [instance.pk])


def connect() -> None:
    user_model = get_user_model()
    user_logged_in.connect(on_logged_in, dispatch_uid="audit.user_logged_in")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.user_login_failed")
    m2m_changed.connect(on_groups_changed, sender=user_model.groups.through, dispatch_uid="audit.user_groups")
    m2m_changed.connect(on_team_members_changed, sender=Team.members.through, dispatch_uid="audit.team_members")
    m2m_changed.connect(on_team_managers_changed, sender=Team.managers.through, dispatch_uid="audit.team_managers")
    pre_save.connect(on_user_pre_save, sender=user_model, dispatch_uid="audit.user_pre_save")
    post_save.connect(on_user_saved, sender=user_model, dispatch_uid="audit.user_saved")
