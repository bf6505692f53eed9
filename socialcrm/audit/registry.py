"""The actions an audit event may name.

The core actions are below; an app adds its own by passing a ``TextChoices`` class to
``register_actions`` from its ``AppConfig.ready()``. ``audit_record`` refuses an action
nobody registered, so a typo fails loudly instead of writing an event no filter finds.
The column has no ``choices``: adding actions never needs a migration.
"""

from __future__ import annotations

from django.db import models


class Action(models.TextChoices):
    CONTACT_VIEWED = "contact.viewed", "Contact viewed"
    CONTACT_EXPORTED = "contact.exported", "Contact exported"
    CONTACTS_IMPORTED = "contacts.imported", "Contacts imported"
    CONTACT_ERASED = "contact.erased", "Contact erased"
    CONSENT_CHANGED = "consent.changed", "Consent changed"
    PREFERENCE_CHANGED = "preference.changed", "Privacy preference changed"
    DPO_DECISION = "dpo.decision", "DPO decision"
    ROLE_CHANGED = "role.changed", "Role or account flags changed"
    TEAM_MEMBERSHIP_CHANGED = "team.membership_changed", "Team membership changed"
    USER_LOGIN = "user.login", "Signed in"
    USER_LOGIN_FAILED = "user.login_failed", "Sign-in failed"
    AUDIT_VIEWED = "audit.viewed", "Audit trail viewed"


_actions: dict[str, str] = {}


def register_actions(choices: type[models.TextChoices]) -> None:
    """Make every member of ``choices`` a valid audit action (idempotent).

    Raises ValueError when a value is already registered with a different label, so two
    apps cannot silently mean different things by the same action.
    """
    for value, label in choices.choices:
        existing = _actions.get(value)
        if existing is not None and existing != label:
            raise ValueError(f"Audit action {value!r} is already registered as {existing!r}.")
        _actions[value] = str(label)


def is_registered(action: str) -> bool:
    return action in _actions


def action_choices() -> list[tuple[str, str]]:
    """(value, label) of every registered action, sorted by value (for filters and admin)."""
    return sorted(_actions.items())


def action_label(action: str) -> str:
    return _actions.get(action, action)


register_actions(Action)
