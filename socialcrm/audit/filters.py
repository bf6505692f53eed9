"""The audit viewer's filters (parse only; the selector applies them)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from socialcrm.audit.models import AuditEvent
from socialcrm.audit.registry import action_choices


def _start_of(day: date) -> datetime:
    # Days in the current time zone, as an indexable range on occurred_at (no __date lookup).
    return timezone.make_aware(datetime.combine(day, time.min))


class DateInput(forms.DateInput):
    input_type = "date"


class IntegerFilter(django_filters.NumberFilter):
    # Ids are whole numbers (NumberFilter would take decimals).
    field_class = forms.IntegerField


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        queryset=get_user_model()._default_manager.order_by("email"), label="Actor"
    )
    action = django_filters.ChoiceFilter(choices=action_choices, label="Action")
    object_type = django_filters.CharFilter(label="Object type", help_text="For example contact, user, team.")
    object_id = django_filters.CharFilter(label="Object id")
    # The ready-made link others use: ?contact=<id> is "who touched this person's data?".
    contact = IntegerFilter(method="filter_contact", label="Contact id", min_value=1)
    since = django_filters.DateFilter(method="filter_since", label="From", widget=DateInput)
    until = django_filters.DateFilter(method="filter_until", label="To (inclusive)", widget=DateInput)
    # Everything one request did (the Request column links here).
    request_id = django_filters.UUIDFilter(label="Request id")

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "object_type", "object_id", "contact", "since", "until", "request_id"]

    def filter_contact(self, queryset: QuerySet[AuditEvent], name: str, value: Any) -> QuerySet[AuditEvent]:
        return queryset.filter(object_type="contact", object_id=str(value))

    def filter_since(self, queryset: QuerySet[AuditEvent], name: str, value: date) -> QuerySet[AuditEvent]:
        return queryset.filter(occurred_at__gte=_start_of(value))

    def filter_until(self, queryset: QuerySet[AuditEvent], name: str, value: date) -> QuerySet[AuditEvent]:
        return queryset.filter(occurred_at__lt=_start_of(value + timedelta(days=1)))
