"""Encryption at rest for mailbox passwords (Fernet: AES-128-CBC + HMAC-SHA256).

The key is derived with HKDF from ``EMAIL_ENCRYPTION_KEY``. With ``DEBUG`` off it must be set
(the deploy check ``contacts.E001`` says so before a release starts, and encrypting refuses
without it); only in development is it derived from ``SECRET_KEY`` when empty. Rotating it
makes the stored passwords unreadable, and users must connect their mailbox again (the sync
says so).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_INFO = b"socialcrm.mailbox-password.v1"


class DecryptionError(ValueError):
    """The stored secret cannot be read with the current key."""


def _fernet() -> Fernet:
    if not settings.EMAIL_ENCRYPTION_KEY and not settings.DEBUG:
        raise ImproperlyConfigured("EMAIL_ENCRYPTION_KEY is not set: mailbox passwords cannot be stored or read.")
    material = (settings.EMAIL_ENCRYPTION_KEY or settings.SECRET_KEY).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("the stored password cannot be decrypted (the key changed?)") from exc
