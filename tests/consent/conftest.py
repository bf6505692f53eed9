"""Fixtures of the consent tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from consent.gate import clear_purpose_cache
from consent.models import ConsentEvent, Purpose
from consent.services import consent_record


@pytest.fixture(autouse=True)
def _fresh_purpose_cache() -> Iterator[None]:
    # A test that edits a purpose rolls back; the in-process cache must not keep the edit.
    clear_purpose_cache()
    yield
    clear_purpose_cache()


@pytest.fixture
def purpose(db: None) -> Any:
    """Look up a seeded purpose by code: ``purpose("marketing_email")``."""
    return lambda code: Purpose.objects.get(code=code)


@pytest.fixture
def record(alice: Any, purpose: Any) -> Any:
    """``record(contact, "marketing_email", "grant")``: one ledger event recorded by alice."""

    def make(contact: Any, code: str, action: str, **kwargs: Any) -> ConsentEvent:
        kwargs.setdefault("source", ConsentEvent.Source.EMAIL)
        kwargs.setdefault("evidence", "The person's email of today.")
        return consent_record(actor=alice, contact=contact, purpose=purpose(code), action=action, **kwargs)

    return make
