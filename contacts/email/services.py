"""Writes of the email settings: a user's mailbox connection and a team's mail settings."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from contacts.email.crypto import encrypt
from contacts.models import MailboxConnection, TeamSettings
from socialcrm import outbox
from socialcrm.models import Team


@transaction.atomic
def mailbox_connect(
    *, actor: Any, host: str, port: int, use_ssl: bool, username: str, password: str
) -> MailboxConnection:
    """Connect (or reconnect) ``actor``'s mailbox, password encrypted; queue a first sync after commit.

    Changing the server or account starts the folders from scratch (Message-ID dedupe keeps
    already logged mail from doubling).
    """
    connection = MailboxConnection.objects.select_for_update().filter(user=actor).first()
    same_account = connection is not None and (connection.host, connection.username) == (host, username)
    if connection is None or not same_account:
        if connection is not None:
            connection.delete()
        connection = MailboxConnection(user=actor)
    connection.host, connection.port, connection.use_ssl, connection.username = host, port, use_ssl, username
    connection.password_encrypted = encrypt(password)
    connection.last_error = ""
    connection.last_error_at = None
    connection.save()
    outbox.enqueue("contacts.tasks_email.sync_mailbox", connection.pk)
    return connection


@transaction.atomic
def mailbox_disconnect(*, actor: Any) -> bool:
    """Forget ``actor``'s mailbox and its password (what was logged stays on the timelines)."""
    deleted, _ = MailboxConnection.objects.filter(user=actor).delete()
    return bool(deleted)


@transaction.atomic
def team_mail_settings_update(*, actor: Any, team: Team, own_domains: list[str]) -> TeamSettings:
    """Set ``team``'s own email domains (mail from them is outbound)."""
    row, _ = TeamSettings.objects.select_for_update().get_or_create(team=team)
    row.own_domains = own_domains
    row.save(update_fields=["own_domains"])
    return row


@transaction.atomic
def dropbox_token_rotate(*, actor: Any, team: Team) -> str:
    """Give ``team`` a new dropbox token (the old webhook address stops working at once); return it."""
    row, _ = TeamSettings.objects.select_for_update().get_or_create(team=team)
    row.dropbox_token = secrets.token_hex(16)
    row.save(update_fields=["dropbox_token"])
    return row.dropbox_token
