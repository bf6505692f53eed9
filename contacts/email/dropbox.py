"""The BCC/forward dropbox: each team's secret token and the inbound webhook's signature.

An inbound-mail relay POSTs the raw RFC 822 message to ``/contacts/inbound/email/<token>/``
with a header ``X-CRM-Signature: t=<unix time>,v1=<hex>``, where the hex is
HMAC-SHA256(``INBOUND_EMAIL_SECRET``, ``"<t>." + body``). A request is accepted once: within
``INBOUND_EMAIL_TOLERANCE`` seconds of its timestamp, and never again with the same
signature for the same team: accepted signatures are rows of ``InboundDelivery`` under a
unique constraint, so a replay is refused even while Redis (the cache) is down, and two
identical requests racing each other let one through. Rows are deleted once their timestamp
is twice the window old (any request that old is refused as stale anyway).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from contacts.models import InboundDelivery, TeamSettings
from socialcrm.models import Team

SIGNATURE_HEADER = "X-CRM-Signature"


class SignatureError(ValueError):
    """The request is not signed by the relay, is too old, or was seen before."""


class ReplayError(SignatureError):
    """A correctly signed request seen before (within the replay window)."""


def sign(body: bytes, timestamp: int, secret: str) -> str:
    """The header value a relay sends (also what the tests sign with)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        # isdigit() alone admits digits like "²" that int() refuses.
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("missing or malformed signature header")
    return timestamp, signatures


@dataclass(frozen=True)
class Signed:
    """A verified request's signature and the time it was signed (unix seconds)."""

    signature: str
    timestamp: int


def verify(body: bytes, header: str, *, now: float | None = None) -> Signed:
    """Raise ``SignatureError`` unless ``header`` signs ``body`` recently; return what was signed."""
    secret = settings.INBOUND_EMAIL_SECRET
    if not secret:
        raise SignatureError("the inbound email webhook is not configured")
    timestamp, signatures = _parse_header(header)
    expected = sign(body, timestamp, secret).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("bad signature")
    if abs((time.time() if now is None else now) - timestamp) > settings.INBOUND_EMAIL_TOLERANCE:
        raise SignatureError("stale timestamp")
    return Signed(expected, timestamp)


def claim_delivery(team: Team, signed: Signed) -> None:
    """Record the delivery of ``signed`` to ``team``; raise ``ReplayError`` if it was accepted before.

    Call it in the transaction that logs the message: if logging fails, the claim is rolled
    back with it and the relay's retry is accepted. A concurrent identical request waits on
    the unique index and is refused once the first commits.
    """
    horizon = datetime.fromtimestamp(time.time() - 2 * settings.INBOUND_EMAIL_TOLERANCE, UTC)
    InboundDelivery.objects.filter(signed_at__lt=horizon).delete()
    try:
        with transaction.atomic():
            InboundDelivery.objects.create(
                team=team, signature=signed.signature, signed_at=datetime.fromtimestamp(signed.timestamp, UTC)
            )
    except IntegrityError as exc:
        raise ReplayError("this request was already delivered") from exc


def dropbox_team(token: str) -> Team | None:
    """The team whose dropbox token is ``token`` (compared in the database, then in constant time)."""
    if not token:
        return None
    row = TeamSettings.objects.filter(dropbox_token=token).select_related("team").first()
    if row is None or not hmac.compare_digest(row.dropbox_token, token):
        return None
    return row.team
