"""Helpers of the email tests: the sample messages and a signed post to a team's dropbox."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.test import Client

from contacts.email.dropbox import SIGNATURE_HEADER, sign

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "email"
SECRET = "relay-secret-for-tests"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def post_signed(url: str, body: bytes, *, timestamp: int | None = None, secret: str = SECRET) -> Any:
    """POST ``body`` to the dropbox ``url`` as the relay does, signed with ``secret``."""
    signature = sign(body, int(time.time()) if timestamp is None else timestamp, secret)
    return Client().post(url, body, content_type="message/rfc822", headers={SIGNATURE_HEADER: signature})
