"""The authorization table: every URL pattern, what each role gets.

A URL that is not in some app's ``tests/<app>/authz.py`` fails ``test_every_url_is_in_the_table``,
so a new view cannot ship without saying who may use it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import get_resolver, reverse
from django.urls.resolvers import URLPattern, URLResolver

import tests
from tests.authz import ADMIN, ANON, DPO, LOGIN, MANAGER, REDIRECT, ROLES, SALES, Access

# Unnamed patterns kept by allauth for old links; they redirect to the named ones above.
UNNAMED_ALLOWED = {
    "accounts/social/login/cancelled/",
    "accounts/social/login/error/",
    "accounts/social/signup/",
    "accounts/social/connections/",
}


def _walk(patterns: list[Any], prefix: str = "", namespace: str | None = None) -> Iterator[tuple[str | None, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), full_ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, prefix + str(pattern.pattern)


def all_url_patterns() -> list[tuple[str | None, str]]:
    return list(_walk(get_resolver().url_patterns))


def load_table() -> dict[str, Access]:
    table: dict[str, Access] = {}
    for module_info in pkgutil.iter_modules(tests.__path__):
        if not module_info.ispkg:
            continue
        try:
            module = importlib.import_module(f"tests.{module_info.name}.authz")
        except ModuleNotFoundError:
            continue
        overlap = table.keys() & module.URLS.keys()
        assert not overlap, f"URL names listed twice: {overlap}"
        table.update(module.URLS)
    return table


TABLE = load_table()


def test_every_url_is_in_the_table() -> None:
    missing = []
    for name, route in all_url_patterns():
        if name is None:
            if route not in UNNAMED_ALLOWED and not route.startswith("admin/"):
                missing.append(route)
        elif not name.startswith("admin:") and name not in TABLE:
            missing.append(name)
    assert not missing, f"Add these URLs to an authz table: {missing}"


def test_table_lists_no_url_that_does_not_exist() -> None:
    names = {name for name, _ in all_url_patterns() if name}
    assert not set(TABLE) - names


@dataclass
class World:
    """The cast and objects the table's URL arguments refer to."""

    users: dict[str, Any]
    request: pytest.FixtureRequest

    def fixture(self, name: str) -> Any:
        return self.request.getfixturevalue(name)


@pytest.fixture
def world(alice: Any, mona: Any, dpo: Any, admin: Any, request: pytest.FixtureRequest) -> World:
    return World(users={ANON: None, SALES: alice, MANAGER: mona, DPO: dpo, ADMIN: admin}, request=request)


def _check(response: Any, expected: int | str, role: str, name: str) -> None:
    where = f"{name} as {role}"
    login_url = resolve_url(settings.LOGIN_URL)
    if expected == LOGIN:
        assert response.status_code == 302, f"{where}: expected a redirect to sign in, got {response.status_code}"
        assert response["Location"].startswith(login_url), f"{where}: redirected to {response['Location']}"
    elif expected == REDIRECT:
        assert response.status_code == 302, f"{where}: expected a redirect, got {response.status_code}"
    else:
        assert response.status_code == expected, f"{where}: expected {expected}, got {response.status_code}"


@pytest.mark.parametrize("name", sorted(TABLE))
@pytest.mark.parametrize("role", ROLES)
def test_url_answers_each_role_as_the_table_says(name: str, role: str, world: World, client_for: Any) -> None:
    access = TABLE[name]
    kwargs = access.kwargs(world) if access.kwargs else {}
    url = reverse(name, kwargs=kwargs)
    client = client_for(world.users[role])
    response = getattr(client, access.method)(url, data=dict(access.data))
    _check(response, access.expect[role], role, name)


def _admin_urls_without_arguments() -> list[str]:
    # The logout view and the autocomplete endpoint (which needs query parameters) aside.
    return sorted(
        name
        for name, route in all_url_patterns()
        if name
        and name.startswith("admin:")
        and name not in {"admin:logout", "admin:autocomplete"}
        and "<" not in route
        and "(?P" not in route
    )


@pytest.mark.parametrize("name", _admin_urls_without_arguments())
def test_admin_is_for_staff_only(name: str, world: World, client_for: Any) -> None:
    url = reverse(name)
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(resolve_url(settings.LOGIN_URL)) or "/admin/login/" in anonymous["Location"]
    for role in (SALES, MANAGER, DPO):
        response = client_for(world.users[role]).get(url)
        assert response.status_code in {302, 403}, f"{name} as {role}: {response.status_code}"
        if response.status_code == 302:
            assert "/admin/login/" in response["Location"], f"{name} as {role}: {response['Location']}"
    assert client_for(world.users[ADMIN]).get(url).status_code == (302 if name == "admin:login" else 200)
