from __future__ import annotations

from django.urls import URLPattern, path

from contacts.views import dedupe, detail, imports, lists, reminders
from contacts.views import email as email_views

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
    # Email into the timeline: uploads, the dropbox webhook, threads, mailboxes (contacts/views/email.py).
    path("email/upload/", email_views.email_upload, name="email_upload"),
    path("<int:pk>/email/upload/", email_views.email_upload, name="contact_email_upload"),
    path(
        "organizations/<int:organization_pk>/email/upload/",
        email_views.email_upload,
        name="organization_email_upload",
    ),
    path("email/uploads/<int:pk>/", email_views.email_upload_job, name="email_upload_job"),
    path("email/uploads/<int:pk>/progress/", email_views.email_upload_progress, name="email_upload_progress"),
    path("email/uploads/<int:pk>/cancel/", email_views.email_upload_job_cancel, name="email_upload_cancel"),
    path("inbound/email/<str:token>/", email_views.inbound_email, name="inbound_email"),
    path("activities/<int:pk>/thread/", email_views.thread, name="thread"),
    path("email/mailbox/", email_views.mailbox_settings, name="mailbox_settings"),
    path("email/mailbox/disconnect/", email_views.mailbox_remove, name="mailbox_disconnect"),
    path("email/teams/<int:pk>/", email_views.team_mail_settings, name="team_mail_settings"),
    # Reminders, notifications, the calendar feed and the team dashboard (contacts/views/reminders.py).
    path("<int:pk>/reminders/", reminders.contact_reminders, name="contact_reminders"),
    path("<int:pk>/reminders/new/", reminders.reminder_create, name="reminder_create"),
    path("<int:pk>/cadence/", reminders.cadence_set, name="cadence_set"),
    path("reminders/", reminders.reminders, name="reminders"),
    path("reminders/bulk/", reminders.reminder_bulk, name="reminder_bulk"),
    path("reminders/<int:pk>/complete/", reminders.reminder_complete, name="reminder_complete"),
    path("reminders/<int:pk>/snooze/", reminders.reminder_snooze, name="reminder_snooze"),
    path("reminders/<int:pk>/cancel/", reminders.reminder_cancel, name="reminder_cancel"),
    path("reminders/calendar/rotate/", reminders.calendar_rotate, name="calendar_rotate"),
    path("reminders/calendar/<int:feed_id>/<str:token>.ics", reminders.calendar_feed, name="calendar_feed"),
    path("notifications/", reminders.notifications, name="notifications"),
    path("notifications/read/", reminders.notifications_read, name="notifications_read"),
    path("notifications/preferences/", reminders.notification_preferences, name="notification_preferences"),
    path("team/", reminders.team_dashboard, name="team_dashboard"),
    path("team/<int:team_id>/settings/", reminders.team_settings, name="team_settings"),
    # Import, export, duplicates and merge (contacts/views/imports.py, contacts/views/dedupe.py).
    path("import/", imports.import_start, name="import"),
    path("import/<int:pk>/", imports.import_detail, name="import_detail"),
    path("import/<int:pk>/mapping/", imports.import_mapping, name="import_mapping"),
    path("import/<int:pk>/commit/", imports.import_commit, name="import_commit"),
    path("import/<int:pk>/progress/", imports.import_progress, name="import_progress"),
    path("import/<int:pk>/cancel/", imports.import_cancel, name="import_cancel"),
    path("import/<int:pk>/errors.csv", imports.import_errors, name="import_errors"),
    path("import/<int:pk>/undo/", imports.import_undo, name="import_undo"),
    path("export/", imports.contact_export_confirm, name="export_confirm"),
    path("export.csv", imports.contact_export, {"fmt": "csv"}, name="export_csv"),
    path("export.vcf", imports.contact_export, {"fmt": "vcard"}, name="export_vcard"),
    path("duplicates/", dedupe.duplicates, name="duplicates"),
    path("<int:pk>/merge/<int:other>/", dedupe.merge, name="merge"),
]
