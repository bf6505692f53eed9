"""Demo data: a sample file of every import format imported into the demo team, as its
salesperson would.

The files (LinkedIn connections, Google Contacts and Outlook CSV exports, Apple Contacts'
vCard 3.0 and a vCard 4.0) live in ``contacts/demo_data/import/``. Each is imported once: a
second ``manage.py demo`` finds the earlier import job by file name and leaves it as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from contacts.models import ImportJob
from contacts.services.imports import import_commit, import_preview

if TYPE_CHECKING:
    from socialcrm.registry import DemoContext

DEMO_FILES = (
    "linkedin_connections.csv",
    "google_contacts.csv",
    "outlook_contacts.csv",
    "apple_contacts.vcf",
    "contacts_v4.vcf",
)
DEMO_DIR = Path(__file__).resolve().parent / "demo_data" / "import"


def load_demo_imports(context: DemoContext) -> None:
    """Import the sample files into the demo team (once each)."""
    for name in DEMO_FILES:
        if ImportJob.objects.filter(team=context.team, file_name=name).exists():
            context.say(f"  {name} was already imported; left as it is.")
            continue
        job = import_preview(
            actor=context.sales, team=context.team, file_name=name, data=(DEMO_DIR / name).read_bytes()
        )
        # Without a broker the task runs right here (eager); with one, a worker picks it up.
        job = import_commit(actor=context.sales, job=job)
        job.refresh_from_db()
        context.say(f"  {name}: {job.get_status_display().lower()}, {job.counts}")
