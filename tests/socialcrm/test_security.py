"""Security headers on real pages, and Django's deployment checklist under production settings."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from socialcrm.models import User
from tests.processes import run_python


def csp_directives(response: HttpResponse) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.fixture(params=["sign-in page (anonymous)", "home (signed in)", "404 page"])
def page(request: pytest.FixtureRequest, client_for: Callable[[User | None], Client], alice: User) -> HttpResponse:
    if request.param == "sign-in page (anonymous)":
        response = client_for(None).get(reverse("account_login"))
        assert response.status_code == 200
    elif request.param == "home (signed in)":
        response = client_for(alice).get(reverse("home"))
        assert response.status_code == 200
    else:
        response = client_for(alice).get("/no-such-page/")
        assert response.status_code == 404
    return response


def test_content_security_policy_allows_only_own_origin(page: HttpResponse) -> None:
    directives = csp_directives(page)
    assert directives["default-src"] == ["'self'"]
    # script-src falls back to default-src when absent; either way, no inline or eval'd script.
    script_src = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_pages_cannot_be_framed_or_sniffed_and_leak_no_referrer(page: HttpResponse) -> None:
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_powerful_browser_features_are_switched_off(page: HttpResponse) -> None:
    policy = dict(item.strip().split("=", 1) for item in page.headers["Permissions-Policy"].split(","))
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert policy[feature] == "()"


def production_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "crm.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://crm.example.com",
        "SITE_URL": "https://crm.example.com",
        "DATABASE_URL": "postgres://crm@db.example.com:5432/socialcrm",
        "REDIS_URL": "redis://cache.example.com:6379/0",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "VAR_DIR": str(var_dir),
        **overrides,
    }


def test_deploy_check_passes_with_production_settings(tmp_path: Path) -> None:
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_debug_is_left_on(tmp_path: Path) -> None:
    """The check above could pass vacuously; this shows it does catch a bad deployment."""
    result = run_python(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path, DEBUG="1")
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr
