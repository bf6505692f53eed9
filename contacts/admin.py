from django.contrib import admin
from django.db import models

from contacts.models import Activity, Contact, ContactMethod, Organization, Tag


class ContactMethodInline(admin.TabularInline):
    model = ContactMethod
    extra = 0
    fields = ("kind", "value", "normalized", "label", "is_primary")
    readonly_fields = ("normalized",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("display_name", "organization", "team", "owner", "archived")
    list_filter = ("team", "archived")
    search_fields = ("display_name", "methods__normalized")
    raw_id_fields = ("organization", "owner")
    inlines = [ContactMethodInline]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "team", "archived")
    list_filter = ("team", "archived")
    search_fields = ("name", "domain")
    # A website typed without a scheme is https (the app's own form does the same).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "team")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("contact", "kind", "occurred_at", "direction", "source")
    list_filter = ("kind", "source")
    raw_id_fields = ("contact", "actor")
    date_hierarchy = "occurred_at"
