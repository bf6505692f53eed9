"""A stored full-text document per contact, PostgreSQL only (like the search indexes of 0002).

Ranking a search rebuilt ``to_tsvector(display_name || ' ' || title)`` for every match (the
expression index of 0002 serves the match, not the rank), and the prefix search of short
terms rebuilt it for every contact it walked. The document is now a column
PostgreSQL generates (``GENERATED ALWAYS ... STORED``), so every write path keeps it in step
without code of its own: the services, the import's COPY, merges, ``seed_scale``. The model
does not declare it (SQLite has no tsvector); ``contacts.search`` reads it, and its GIN index
replaces the expression index.
"""

from django.db import migrations

# Names weigh more than titles (A and B) in the rank; both match alike.
DOCUMENT = (
    "setweight(to_tsvector('simple'::regconfig, COALESCE(display_name, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, COALESCE(title, '')), 'B')"
)
ADD = [
    f"ALTER TABLE contacts_contact ADD COLUMN search_document tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED",
    "CREATE INDEX IF NOT EXISTS contact_search_document_idx ON contacts_contact USING gin (search_document)",
    "DROP INDEX IF EXISTS contact_search_fts_idx",
]
REMOVE = [
    "CREATE INDEX IF NOT EXISTS contact_search_fts_idx ON contacts_contact USING gin "
    "(to_tsvector('simple'::regconfig, COALESCE(display_name, '') || ' ' || COALESCE(title, '')))",
    "ALTER TABLE contacts_contact DROP COLUMN IF EXISTS search_document",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0009_email_upload_job")]

    operations = [migrations.RunPython(_run(ADD), _run(REMOVE))]
