from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from socialcrm.registry import nav_items


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation entries the signed-in user's roles may use."""
    user = request.user
    if not user.is_authenticated:
        return {"nav_items": []}
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = [
        {"label": item.label, "url": reverse(item.url_name), "current": item.url_name == current}
        for item in nav_items()
        if item.visible_to(user)
    ]
    return {"nav_items": items}
