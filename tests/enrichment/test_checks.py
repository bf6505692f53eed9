"""The SSRF guard's test switch cannot be left on in production: a system check refuses it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

CHECK_ID = "enrichment.E001"


def errors() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks() if m.id == CHECK_ID]


def test_private_addresses_with_debug_off_is_an_error_that_stops_check_deploy(settings: Any) -> None:
    settings.DEBUG = False
    settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = True

    [error] = errors()
    assert error.level == checks.ERROR
    assert "ENRICHMENT_ALLOW_PRIVATE_ADDRESSES" in error.msg
    with pytest.raises(SystemCheckError, match=CHECK_ID):
        call_command("check", "--deploy")


def test_private_addresses_are_fine_in_development_and_off_is_fine_everywhere(settings: Any) -> None:
    settings.DEBUG = True
    settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = True
    assert errors() == []
    settings.DEBUG = False
    settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = False
    assert errors() == []
