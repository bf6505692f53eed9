"""Vocabulary for the authorization table (see tests/test_authorization.py).

Each app's ``tests/<app>/authz.py`` defines ``URLS``: every URL name of that app mapped
to an ``Access`` that says, per role, what a GET (or the given method) must answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ANON, SALES, MANAGER, DPO, ADMIN = "anonymous", "sales", "manager", "dpo", "admin"
ROLES = (ANON, SALES, MANAGER, DPO, ADMIN)

OK = 200
UNAUTHORIZED = 401
FORBIDDEN = 403
NOT_FOUND = 404
NOT_ALLOWED = 405
LOGIN = "login"  # redirected to the sign-in page
REDIRECT = "redirect"  # redirected somewhere else (e.g. a signed-in user on the login page)

Expectation = int | str


@dataclass(frozen=True)
class Access:
    expect: Mapping[str, Expectation]
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    method: str = "get"
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = set(ROLES) - set(self.expect)
        assert not missing, f"Access must say what every role gets; missing {missing}"


def roles(
    anonymous: Expectation, sales: Expectation, manager: Expectation, dpo: Expectation, admin: Expectation, **kw: Any
) -> Access:
    return Access({ANON: anonymous, SALES: sales, MANAGER: manager, DPO: dpo, ADMIN: admin}, **kw)


def staff_only(**kw: Any) -> Access:
    """Every working role may use it; anonymous visitors are sent to sign in."""
    return roles(LOGIN, OK, OK, OK, OK, **kw)


def signed_in(expect: Expectation = OK, **kw: Any) -> Access:
    """Any signed-in account (including ones without a role)."""
    return roles(LOGIN, expect, expect, expect, expect, **kw)


def public(expect: Expectation = OK, signed_in_expect: Expectation | None = None, **kw: Any) -> Access:
    other = expect if signed_in_expect is None else signed_in_expect
    return roles(expect, other, other, other, other, **kw)
