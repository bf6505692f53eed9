from __future__ import annotations

from django.urls import URLPattern, path

from contacts.views import detail

app_name = "contacts"

urlpatterns: list[URLPattern] = [
    # The contact page, its timeline and the quick log (contacts/views/detail.py).
    path("<int:pk>/", detail.contact_detail, name="detail"),
    path("<int:pk>/timeline/", detail.contact_timeline, name="timeline"),
    path("<int:pk>/log/", detail.quick_log_create, name="quick_log"),
    path("activities/<int:pk>/edit/", detail.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/delete/", detail.activity_delete, name="activity_delete"),
    path("organizations/<int:pk>/", detail.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/timeline/", detail.organization_timeline, name="organization_timeline"),
]
