from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import URLPattern

from socialcrm.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only, and only the application appends to it."""

    list_display = ("occurred_at", "action", "actor_id", "object_type", "object_id", "request_id")
    list_filter = ("action",)
    search_fields = ("=object_id",)
    ordering = ("-occurred_at", "-id")
    show_full_result_count = False

    def get_urls(self) -> list[URLPattern]:
        # No add page at all (not even a 403 one): events are appended by the application.
        return [url for url in super().get_urls() if not (url.name or "").endswith("_add")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
