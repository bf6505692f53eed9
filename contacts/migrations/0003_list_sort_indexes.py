"""Indexes for the contact list's sorts, PostgreSQL only (like the search indexes of 0002).

"Last contacted, newest first" puts never-contacted people last (DESC NULLS LAST), which
contact_team_lastcontact_idx (DESC, so NULLS FIRST) cannot serve; "created" had no index.
"""

from django.db import migrations

INDEXES = [
    (
        "contact_team_lastcontact_nl_idx",
        "contacts_contact (team_id, last_contacted_at DESC NULLS LAST, id DESC)",
    ),
    ("contact_team_created_idx", "contacts_contact (team_id, created_at, id)"),
]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_saved_views_search")]

    operations = [migrations.RunPython(add_indexes, remove_indexes)]
