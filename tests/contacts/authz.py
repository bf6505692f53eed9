"""Authorization table for the contacts app."""

from __future__ import annotations

from tests.authz import Access

URLS: dict[str, Access] = {}
