from __future__ import annotations

from django.urls import URLPattern, path

from enrichment import views

app_name = "enrichment"

urlpatterns: list[URLPattern] = [
    path("contacts/<int:pk>/panel/", views.panel, name="panel"),
    path("contacts/<int:pk>/refresh/", views.refresh, name="refresh"),
    path("profiles/<int:pk>/accept/", views.profile_accept, name="profile_accept"),
    path("profiles/<int:pk>/reject/", views.profile_reject, name="profile_reject"),
]
