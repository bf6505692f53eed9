"""``audit_chain_head(key, relaxed)``: a read's audit event may commit without waiting for the disk.

With ``relaxed`` true the function also sets ``synchronous_commit`` off for the rest of
the transaction (``set_config(..., true)``), so an event that is alone in its transaction
(a page view) does not wait for the WAL flush at COMMIT, with no statement of its own.
See docs/audit.md ("Page views commit without waiting for the disk").
"""

from django.db import migrations

CREATE = """
DROP FUNCTION IF EXISTS audit_chain_head(bigint);
CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint, relaxed boolean) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF relaxed THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN (SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1);
END;
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS audit_chain_head(bigint, boolean);
CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN (SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1);
END;
$$;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_head_function")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
