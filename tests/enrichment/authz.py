"""Authorization table for the enrichment app."""

from __future__ import annotations

from tests.authz import Access

URLS: dict[str, Access] = {}
