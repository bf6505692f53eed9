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


AMARA = "amara.okafor@northwind.example"


def message(index: int, sender: str = AMARA, *, readable: bool = True) -> bytes:
    """One mbox entry: a message from ``sender`` to the team, or (unreadable) one without a From header."""
    headers = f"From: {sender}\n" if readable else ""
    return (
        f"From sender@example Mon Mar 18 09:00:00 2024\n{headers}To: alice@staff.example\n"
        f"Subject: Message {index}\nDate: Mon, 18 Mar 2024 09:00:00 +0000\nMessage-ID: <m{index}@mail.example>\n\n"
        f"Body of message {index}.\n\n"
    ).encode()


def mbox(indexes: range, **kwargs: Any) -> bytes:
    return b"".join(message(index, **kwargs) for index in indexes)
