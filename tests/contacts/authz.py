"""Authorization table for the contacts app."""

from __future__ import annotations

from typing import Any

from contacts.models import Activity
from tests.authz import FORBIDDEN, LOGIN, OK, REDIRECT, Access, roles, staff_only
from tests.factories import ActivityFactory, ContactFactory, OrganizationFactory


def _contact(world: Any) -> Any:
    return ContactFactory(team=world.fixture("team"), owner=world.fixture("alice"))


def _contact_kwargs(world: Any) -> dict[str, Any]:
    return {"pk": _contact(world).pk}


def _alices_logged_call(world: Any) -> dict[str, Any]:
    activity = ActivityFactory(
        contact=_contact(world), actor=world.fixture("alice"), kind=Activity.Kind.CALL, source="manual"
    )
    return {"pk": activity.pk}


def _organization_kwargs(world: Any) -> dict[str, Any]:
    return {"pk": OrganizationFactory(team=world.fixture("team")).pk}


_QUICK_LOG = {"kind": "note", "occurred_at": "2024-01-01T10:00", "subject": "Checked in"}

URLS: dict[str, Access] = {
    # The contact page and its timeline (contacts/views/detail.py): every working role reads.
    "contacts:detail": staff_only(kwargs=_contact_kwargs),
    "contacts:timeline": staff_only(kwargs=_contact_kwargs),
    "contacts:organization_detail": staff_only(kwargs=_organization_kwargs),
    "contacts:organization_timeline": staff_only(kwargs=_organization_kwargs),
    # Sales and managers log by hand; the DPO reads only.
    "contacts:quick_log": roles(
        LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, kwargs=_contact_kwargs, method="post", data=_QUICK_LOG
    ),
    # Only the author edits or deletes a logged entry (here: alice's, within the window).
    "contacts:activity_edit": roles(LOGIN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, kwargs=_alices_logged_call),
    "contacts:activity_delete": roles(
        LOGIN, REDIRECT, FORBIDDEN, FORBIDDEN, FORBIDDEN, kwargs=_alices_logged_call, method="post"
    ),
}
