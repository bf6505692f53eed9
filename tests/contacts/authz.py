"""Authorization table for the contacts app."""

from __future__ import annotations

from typing import Any

from contacts.models import Activity
from tests.authz import FORBIDDEN, LOGIN, NOT_FOUND, OK, REDIRECT, Access, roles, staff_only
from tests.factories import ActivityFactory, ContactFactory, OrganizationFactory, SavedViewFactory


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


def _alices_saved_view(world: Any) -> dict[str, Any]:
    return {"pk": SavedViewFactory(user=world.fixture("alice")).pk}


# Sales and managers (and admins, who hold every role) change contacts; the DPO reads only.
def _editors(**kw: Any) -> Access:
    return roles(LOGIN, OK, OK, FORBIDDEN, OK, **kw)


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
    # Lists, saved views and create / edit / archive (contacts/views/lists.py).
    "contacts:list": staff_only(),
    "contacts:create": _editors(),
    "contacts:edit": _editors(kwargs=_contact_kwargs),
    "contacts:archive": _editors(kwargs=_contact_kwargs),
    "contacts:unarchive": _editors(kwargs=_contact_kwargs),
    "contacts:saved_view_create": roles(
        LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, method="post", data={"name": "Mine", "query": "q=ann"}
    ),
    # A saved view is its owner's alone: anyone else gets 404.
    "contacts:saved_view_delete": roles(
        LOGIN, REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, kwargs=_alices_saved_view, method="post"
    ),
    "contacts:organization_list": staff_only(),
    "contacts:organization_create": _editors(),
    "contacts:organization_edit": _editors(kwargs=_organization_kwargs),
    "contacts:organization_archive": _editors(kwargs=_organization_kwargs),
    "contacts:organization_unarchive": _editors(kwargs=_organization_kwargs),
}
