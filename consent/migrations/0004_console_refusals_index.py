"""The DPO console's "recent withdrawals and objections" read newest first from an index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_ledger_append_only_trigger")]

    operations = [
        migrations.AddIndex(
            model_name="consentevent",
            index=models.Index(
                condition=models.Q(("action__in", ["withdraw", "object"])),
                fields=["-occurred_at", "-id"],
                name="consentevent_refusals_idx",
            ),
        ),
    ]
