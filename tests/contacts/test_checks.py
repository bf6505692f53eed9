"""Mailbox passwords need their own key in production: a deploy check refuses to go on without it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from contacts.email.crypto import decrypt, encrypt

CHECK_ID = "contacts.E001"


def errors() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks(include_deployment_checks=True) if m.id == CHECK_ID]


def test_no_encryption_key_with_debug_off_stops_check_deploy_and_encrypting(settings: Any) -> None:
    settings.DEBUG = False
    settings.EMAIL_ENCRYPTION_KEY = ""

    [error] = errors()
    assert error.level == checks.ERROR and "EMAIL_ENCRYPTION_KEY" in error.msg
    with pytest.raises(SystemCheckError, match=CHECK_ID):
        call_command("check", "--deploy")
    with pytest.raises(ImproperlyConfigured):
        encrypt("app-password")


def test_the_check_is_a_deploy_check_only(settings: Any) -> None:
    settings.DEBUG = False
    settings.EMAIL_ENCRYPTION_KEY = ""

    assert [m for m in checks.run_checks() if m.id == CHECK_ID] == []


def test_development_derives_a_key_and_a_set_key_passes(settings: Any) -> None:
    settings.DEBUG = True
    settings.EMAIL_ENCRYPTION_KEY = ""
    assert errors() == []
    assert decrypt(encrypt("app-password")) == "app-password"
    settings.DEBUG = False
    settings.EMAIL_ENCRYPTION_KEY = "a-long-random-key"
    assert errors() == []
