"""Authorization table for the consent app."""

from __future__ import annotations

from typing import Any

from consent.models import ConsentEvent, Purpose
from consent.services import consent_record
from tests.authz import FORBIDDEN, LOGIN, OK, Access, roles, staff_only
from tests.factories import ContactFactory


def _contact_kwargs(world: Any) -> dict[str, Any]:
    return {"pk": ContactFactory(team=world.fixture("team")).pk}


def _receipt_kwargs(world: Any) -> dict[str, Any]:
    event = consent_record(
        actor=world.fixture("alice"),
        contact=ContactFactory(team=world.fixture("team")),
        purpose=Purpose.objects.get(code="marketing_email"),
        action=ConsentEvent.Action.GRANT,
        source=ConsentEvent.Source.FORM,
        evidence="Signed up on the website.",
    )
    return {"receipt_id": event.receipt_id}


def _dpo_only(**kw: Any) -> Access:
    # Admins hold every role; sales and managers never reach the DPO's pages.
    return roles(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, **kw)


# An empty form: everyone who may record gets the form back with its errors (422).
INVALID = 422

URLS: dict[str, Access] = {
    "consent:console": _dpo_only(),
    "consent:purposes": _dpo_only(),
    "consent:purpose_edit": _dpo_only(kwargs=lambda world: {"code": "marketing_email"}),
    "consent:contact_consent": staff_only(kwargs=_contact_kwargs),
    "consent:consent_record": roles(LOGIN, INVALID, INVALID, INVALID, INVALID, kwargs=_contact_kwargs, method="post"),
    "consent:preferences": staff_only(kwargs=_contact_kwargs),
    "consent:receipt": staff_only(kwargs=_receipt_kwargs),
}
