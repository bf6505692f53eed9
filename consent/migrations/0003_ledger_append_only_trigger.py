"""On PostgreSQL, the consent ledger refuses UPDATE always and DELETE outside erasure.

TRUNCATE is left alone: it is what test suites and ``flush`` use to empty the database.
Erasure opens the DELETE for its own transaction with
``SELECT set_config('socialcrm.erasure', 'on', true)`` (i.e. ``SET LOCAL``); see
consent/erasure.py. Other databases rely on the model and QuerySet guards.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION consent_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('socialcrm.erasure', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    -- No percent sign in this SQL: the migration runs it with parameter substitution.
    RAISE EXCEPTION USING
        MESSAGE = 'consent_consentevent is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER consent_ledger_append_only
    BEFORE UPDATE OR DELETE ON consent_consentevent
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS consent_ledger_append_only ON consent_consentevent;
DROP FUNCTION IF EXISTS consent_ledger_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_seed_purposes")]

    operations = [migrations.RunPython(create, drop)]
