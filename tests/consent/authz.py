"""Authorization table for the consent app."""

from __future__ import annotations

from tests.authz import Access

URLS: dict[str, Access] = {}
