from __future__ import annotations

from django.urls import URLPattern, path

from contacts.views import detail, lists

app_name = "contacts"

urlpatterns: list[URLPattern] = [
    # Lists, saved views, create / edit / archive (contacts/views/lists.py).
    path("", lists.contact_list, name="list"),
    path("new/", lists.contact_create, name="create"),
    path("<int:pk>/edit/", lists.contact_edit, name="edit"),
    path("<int:pk>/archive/", lists.contact_archive, name="archive"),
    path("<int:pk>/unarchive/", lists.contact_archive, {"archive": False}, name="unarchive"),
    path("views/", lists.saved_view_create, name="saved_view_create"),
    path("views/<int:pk>/delete/", lists.saved_view_delete, name="saved_view_delete"),
    path("organizations/", lists.organization_list, name="organization_list"),
    path("organizations/new/", lists.organization_create, name="organization_create"),
    path("organizations/<int:pk>/edit/", lists.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/archive/", lists.organization_archive, name="organization_archive"),
    path(
        "organizations/<int:pk>/unarchive/",
        lists.organization_archive,
        {"archive": False},
        name="organization_unarchive",
    ),
    # The contact page, its timeline and the quick log (contacts/views/detail.py).
    path("<int:pk>/", detail.contact_detail, name="detail"),
    path("<int:pk>/timeline/", detail.contact_timeline, name="timeline"),
    path("<int:pk>/log/", detail.quick_log_create, name="quick_log"),
    path("activities/<int:pk>/edit/", detail.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/delete/", detail.activity_delete, name="activity_delete"),
    path("organizations/<int:pk>/", detail.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/timeline/", detail.organization_timeline, name="organization_timeline"),
]
