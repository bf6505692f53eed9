"""Stored import plans are lists per row now (``contacts.importing.plan.stored_row``): those
stored as dicts are dropped, and the commit of their jobs plans the file again (as it does
when the team changed since the preview)."""

from django.db import migrations


def drop_plans_stored_as_dicts(apps, schema_editor):
    apps.get_model("contacts", "ImportPlanBatch").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("contacts", "0013_jobs_cancelled")]

    operations = [migrations.RunPython(drop_plans_stored_as_dicts, migrations.RunPython.noop)]
