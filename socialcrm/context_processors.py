from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from socialcrm.registry import nav_items

_NAV_ITEMS = "_navigation_items"


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation entries the signed-in user's roles may use.

    Worked out once per request: every template rendered with the request runs the context
    processors (the contact page renders six: its panels and timeline rows, then the page).
    """
    items: list[dict[str, Any]] | None = getattr(request, _NAV_ITEMS, None)
    if items is None:
        items = _nav_items(request)
        setattr(request, _NAV_ITEMS, items)
    return {"nav_items": items}


def _nav_items(request: HttpRequest) -> list[dict[str, Any]]:
    user = request.user
    if not user.is_authenticated:
        return []
    current = request.resolver_match.view_name if request.resolver_match else ""
    return [
        {"label": item.label, "url": reverse(item.url_name), "current": item.url_name == current}
        for item in nav_items()
        if item.visible_to(user)
    ]
