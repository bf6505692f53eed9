"""System checks for the contacts app's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error


def email_encryption_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``EMAIL_ENCRYPTION_KEY`` must be set with DEBUG off (``check --deploy``).

    Without it mailbox passwords would be encrypted with a key derived from ``SECRET_KEY``,
    and rotating ``SECRET_KEY`` would silently make every stored password unreadable.
    """
    if not settings.EMAIL_ENCRYPTION_KEY and not settings.DEBUG:
        return [
            Error(
                "EMAIL_ENCRYPTION_KEY is not set: mailbox (IMAP) passwords cannot be encrypted at rest.",
                hint="Set EMAIL_ENCRYPTION_KEY (or EMAIL_ENCRYPTION_KEY_FILE) to a long random secret "
                "that is not SECRET_KEY, and keep it: changing it makes users reconnect their mailboxes.",
                id="contacts.E001",
            )
        ]
    return []
