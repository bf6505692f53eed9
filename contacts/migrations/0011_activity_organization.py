"""``Activity.organization``: the contact's organization, kept in step by the database.

The organization page's combined timeline used to join every entry of every person of the
organization and sort them (1,550 rows for 31 people with 50 entries each, growing with the
organization). With the organization on the entry it reads the newest 26 rows of one range
of ``activity_org_timeline_idx``.

Triggers keep the copy equal to the contact's organization whoever writes (services, COPY
imports, the admin, raw SQL): an entry takes its contact's organization when it is written
or moved to another contact (merges), and a contact's entries follow it when its
organization changes (edits, imports, merges, the organization's deletion, which sets its
contacts' organization to NULL). Existing rows are filled in here, before the index is built.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL_BACKFILL = """
UPDATE contacts_activity AS activity SET organization_id = contact.organization_id
FROM contacts_contact AS contact
WHERE activity.contact_id = contact.id AND contact.organization_id IS NOT NULL
"""

POSTGRESQL_TRIGGERS = """
CREATE FUNCTION contacts_activity_take_organization() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.organization_id := (SELECT organization_id FROM contacts_contact WHERE id = NEW.contact_id);
    RETURN NEW;
END;
$$;
CREATE TRIGGER activity_takes_contacts_organization
    BEFORE INSERT OR UPDATE OF contact_id, organization_id ON contacts_activity
    FOR EACH ROW EXECUTE FUNCTION contacts_activity_take_organization();

CREATE FUNCTION contacts_contact_move_activities() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE contacts_activity SET organization_id = NEW.organization_id WHERE contact_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER contact_activities_follow_organization
    AFTER UPDATE OF organization_id ON contacts_contact
    FOR EACH ROW WHEN (OLD.organization_id IS DISTINCT FROM NEW.organization_id)
    EXECUTE FUNCTION contacts_contact_move_activities();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS contact_activities_follow_organization ON contacts_contact;
DROP FUNCTION IF EXISTS contacts_contact_move_activities();
DROP TRIGGER IF EXISTS activity_takes_contacts_organization ON contacts_activity;
DROP FUNCTION IF EXISTS contacts_activity_take_organization();
"""

SQLITE_BACKFILL = """
UPDATE contacts_activity SET organization_id = (
    SELECT organization_id FROM contacts_contact WHERE contacts_contact.id = contacts_activity.contact_id
)
"""

# SQLite has no BEFORE trigger that can change NEW: the row is corrected right after it is written.
# Caution: Django rebuilds a SQLite table for some schema changes, which drops its triggers; a
# later migration that rebuilds contacts_activity or contacts_contact must create them again
# (tests/contacts/test_activity_organization.py fails if they are gone).
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER activity_takes_contacts_organization AFTER INSERT ON contacts_activity
    BEGIN
        UPDATE contacts_activity SET organization_id = (SELECT organization_id FROM contacts_contact WHERE id = NEW.contact_id) WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER activity_keeps_contacts_organization
    AFTER UPDATE OF contact_id, organization_id ON contacts_activity
    WHEN NEW.organization_id IS NOT (SELECT organization_id FROM contacts_contact WHERE id = NEW.contact_id)
    BEGIN
        UPDATE contacts_activity SET organization_id = (SELECT organization_id FROM contacts_contact WHERE id = NEW.contact_id) WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER contact_activities_follow_organization AFTER UPDATE OF organization_id ON contacts_contact
    WHEN OLD.organization_id IS NOT NEW.organization_id
    BEGIN
        UPDATE contacts_activity SET organization_id = NEW.organization_id WHERE contact_id = NEW.id;
    END
    """,
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS contact_activities_follow_organization",
    "DROP TRIGGER IF EXISTS activity_keeps_contacts_organization",
    "DROP TRIGGER IF EXISTS activity_takes_contacts_organization",
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKFILL, params=None)
        schema_editor.execute(POSTGRESQL_TRIGGERS, params=None)
    else:
        schema_editor.execute(SQLITE_BACKFILL, params=None)
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)
    else:
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0010_contact_search_document")]

    operations = [
        migrations.AddField(
            model_name="activity",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="contacts.organization",
            ),
        ),
        migrations.RunPython(install, uninstall),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("organization__isnull", False)),
                fields=["organization", "-occurred_at", "-id"],
                name="activity_org_timeline_idx",
            ),
        ),
    ]
