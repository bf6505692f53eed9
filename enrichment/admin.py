from __future__ import annotations

from django.contrib import admin

from enrichment.models import ListeningKeyword, ProviderState


@admin.register(ListeningKeyword)
class ListeningKeywordAdmin(admin.ModelAdmin):
    """Teams' social-listening keywords: a post mentioning one reminds the contact's owner."""

    list_display = ("keyword", "team")
    list_filter = ("team",)
    search_fields = ("keyword",)


@admin.register(ProviderState)
class ProviderStateAdmin(admin.ModelAdmin):
    """Circuit breakers, to see (and reset) a provider paused after repeated failures."""

    list_display = ("provider", "failures", "opened_until", "updated_at")
