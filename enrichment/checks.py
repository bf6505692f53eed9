"""System checks for enrichment's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error


def private_addresses_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``ENRICHMENT_ALLOW_PRIVATE_ADDRESSES`` turns the SSRF guard off: an error unless DEBUG is on.

    Registered for every run (not only ``--deploy``), so ``migrate`` and ``runserver`` refuse
    to go on too; the deployment runs ``check --deploy`` and ``migrate`` before starting.
    """
    if settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES and not settings.DEBUG:
        return [
            Error(
                "ENRICHMENT_ALLOW_PRIVATE_ADDRESSES is on with DEBUG off: enrichment's HTTP client could "
                "be sent to the internal network (cloud metadata, databases, admin pages).",
                hint="Unset ENRICHMENT_ALLOW_PRIVATE_ADDRESSES; it is for tests and local fake providers only.",
                id="enrichment.E001",
            )
        ]
    return []
