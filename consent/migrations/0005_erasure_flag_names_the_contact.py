"""The ledger's DELETE door opens for one contact only.

Before, any transaction that ran ``SET LOCAL socialcrm.erasure = 'on'`` could delete any
row. Now the setting must hold the id of the contact being erased, and the trigger lets
through only DELETEs of that contact's rows (consent/erasure.py sets it). UPDATE stays
refused always. This guards against application bugs, not against the table's owner
(docs/consent.md, "Threat model").
"""

from django.db import migrations

NARROW = """
CREATE OR REPLACE FUNCTION consent_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('socialcrm.erasure', true), '') = OLD.contact_id::text THEN
        RETURN OLD;
    END IF;
    -- No percent sign in this SQL: the migration runs it with parameter substitution.
    RAISE EXCEPTION USING
        MESSAGE = 'consent_consentevent is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

WIDE = """
CREATE OR REPLACE FUNCTION consent_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('socialcrm.erasure', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'consent_consentevent is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NARROW)


def widen(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(WIDE)


class Migration(migrations.Migration):
    dependencies = [("consent", "0004_console_refusals_index")]

    operations = [migrations.RunPython(narrow, widen)]
