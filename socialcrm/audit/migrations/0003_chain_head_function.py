"""On PostgreSQL, take the chain lock and read the chain's head in one statement.

``audit_chain_head(key)`` takes ``pg_advisory_xact_lock(key)`` and then returns the last
event's hash. It must be a VOLATILE PL/pgSQL function rather than one plain SELECT: a plain
statement reads with the snapshot taken when it started, i.e. before it waited for the lock,
so it could miss the event the previous lock holder just committed and fork the chain. A
volatile function's own queries each take a fresh snapshot, after the lock is granted.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN (SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1);
END;
$$;
"""

DROP = "DROP FUNCTION IF EXISTS audit_chain_head(bigint);"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
