"""Authorization table for the enrichment app."""

from __future__ import annotations

from typing import Any

from enrichment.models import SocialProfile
from tests.authz import FORBIDDEN, LOGIN, REDIRECT, Access, roles, staff_only
from tests.factories import ContactFactory


def _contact_kwargs(world: Any) -> dict[str, Any]:
    return {"pk": ContactFactory(team=world.fixture("team")).pk}


def _profile_kwargs(world: Any) -> dict[str, Any]:
    contact = ContactFactory(team=world.fixture("team"))
    profile = SocialProfile.objects.create(
        contact=contact, network="github", provider="github", url="https://github.com/someone", title="Engineer"
    )
    return {"pk": profile.pk}


def _reviewers(**kw: Any) -> Access:
    # Accepting copies values onto the contact, like editing it: sales, managers, admins; the DPO reads only.
    return roles(LOGIN, REDIRECT, REDIRECT, FORBIDDEN, REDIRECT, method="post", **kw)


URLS: dict[str, Access] = {
    "enrichment:panel": staff_only(kwargs=_contact_kwargs),
    "enrichment:refresh": _reviewers(kwargs=_contact_kwargs),
    "enrichment:profile_accept": _reviewers(kwargs=_profile_kwargs, data={"field": "title"}),
    "enrichment:profile_reject": _reviewers(kwargs=_profile_kwargs),
}
