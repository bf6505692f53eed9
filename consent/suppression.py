"""The suppression list: identifiers of erased people, kept only as keyed hashes.

A digest is HMAC-SHA256 of the normalized identifier under a key from the
``SUPPRESSION_KEY`` setting, or derived from ``SECRET_KEY`` when that is empty. Set
``SUPPRESSION_KEY`` in production: rotating ``SECRET_KEY`` would otherwise silently empty
the list (every stored digest would stop matching).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError

from consent.models import Suppression
from contacts.normalize import normalize_email
from socialcrm.bulk import among


def _key() -> bytes:
    configured = getattr(settings, "SUPPRESSION_KEY", "")
    if configured:
        return str(configured).encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"socialcrm.suppression", hashlib.sha256).digest()


def normalized_email(email: str) -> str:
    try:
        return normalize_email(email)
    except ValidationError:
        # Still suppress what we were given, compared the way it would have been stored.
        return email.strip().lower()


def _digest(key: bytes, normalized: str) -> str:
    return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()


def identifier_digest(email: str) -> str:
    """The keyed hash stored for ``email`` (normalized first)."""
    return _digest(_key(), normalized_email(email))


def is_suppressed(email: str) -> bool:
    """Is ``email`` on the suppression list? One indexed lookup."""
    return Suppression.objects.filter(digest=identifier_digest(email)).exists()


def suppressed_among(emails: list[str], *, normalized: bool = False) -> set[str]:
    """The ones of ``emails`` that are suppressed, in one query.

    ``normalized``: the emails are already as ``normalize_email`` returns them (an import's
    thousands), so they are hashed as they are instead of being validated again.
    """
    key = _key()
    digests = {_digest(key, email if normalized else normalized_email(email)): email for email in emails}
    found = Suppression.objects.filter(among("digest", digests)).values_list("digest", flat=True)
    return {digests[digest] for digest in found}


def suppressed_among_normalized(emails: list[str]) -> set[str]:
    """``suppressed_among`` for normalized emails (the import's suppression check)."""
    return suppressed_among(emails, normalized=True)
