"""Seed the purpose catalogue. The DPO edits descriptions, bases and retention afterwards."""

from django.db import migrations

from consent.catalogue import seed_purposes


def seed(apps, schema_editor):
    seed_purposes(apps.get_model("consent", "Purpose"), overwrite=True)


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
