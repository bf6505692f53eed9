from __future__ import annotations

from django.urls import URLPattern, path

from consent import views

app_name = "consent"

urlpatterns: list[URLPattern] = [
    path("", views.console, name="console"),
    path("purposes/", views.purposes, name="purposes"),
    path("purposes/<slug:code>/", views.purpose_edit, name="purpose_edit"),
    path("contacts/<int:pk>/consent/", views.contact_consent, name="contact_consent"),
    path("contacts/<int:pk>/consent/record/", views.consent_record, name="consent_record"),
    path("contacts/<int:pk>/preferences/", views.preferences, name="preferences"),
    path("receipts/<uuid:receipt_id>.json", views.receipt, name="receipt"),
]
