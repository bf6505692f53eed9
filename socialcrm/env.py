"""Typed readers for settings that come from the environment.

Each reader rejects a value it cannot parse instead of guessing, so a typo in a
deployment fails at start-up rather than silently running with a default.
Secrets may also come from a file named by ``<NAME>_FILE`` (Docker/Kubernetes secrets).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ValueError):
    """An environment variable holds a value that cannot be used."""


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    file_name = environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise EnvError(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return environ.get(name, default)


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    if name not in environ:
        return default
    value = environ[name].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"{name}={environ[name]!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    if name not in environ or environ[name].strip() == "":
        return default
    try:
        return int(environ[name])
    except ValueError as exc:
        raise EnvError(f"{name}={environ[name]!r} is not an integer") from exc


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blank items are dropped."""
    environ = os.environ if environ is None else environ
    if name not in environ:
        return list(default)
    return [item.strip() for item in environ[name].split(",") if item.strip()]


def socialaccount_providers(*, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """allauth's ``SOCIALACCOUNT_PROVIDERS``: company single sign-on over OpenID Connect.

    The one app ("company") exists only when OIDC_SERVER_URL, OIDC_CLIENT_ID and
    OIDC_CLIENT_SECRET are all set; OIDC_NAME labels the sign-in button. Without it the
    sign-in page shows no SSO button and the provider's URLs answer 404.
    """
    server_url = env_str("OIDC_SERVER_URL", environ=environ)
    client_id = env_str("OIDC_CLIENT_ID", environ=environ)
    secret = env_str("OIDC_CLIENT_SECRET", environ=environ)
    apps = []
    if server_url and client_id and secret:
        apps.append(
            {
                "provider_id": "company",
                "name": env_str("OIDC_NAME", "Company SSO", environ=environ),
                "client_id": client_id,
                "secret": secret,
                "settings": {"server_url": server_url},
            }
        )
    return {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": apps}}
