"""Helpers of the import tests: read a fixture, import it end to end, look at the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.test import TestCase

from contacts.models import Contact, ImportJob
from contacts.services.imports import import_commit, import_preview

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def run_import(actor: Any, team: Any, name: str, data: bytes | None = None) -> ImportJob:
    """Preview then confirm (the task runs eagerly in tests); the finished job."""
    job = import_preview(actor=actor, team=team, file_name=name, data=fixture_bytes(name) if data is None else data)
    # The task is published when the transaction commits (socialcrm.outbox).
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_commit(actor=actor, job=job)
    job.refresh_from_db()
    return job


def contact_named(team: Any, name: str) -> Contact:
    return Contact.objects.select_related("organization").get(team=team, display_name=name)


def methods_of(contact: Contact, kind: str) -> list[tuple[str, str, bool]]:
    """(normalized, label, is_primary) of the contact's methods of ``kind``, primary first."""
    return [
        (method.normalized, method.label, method.is_primary)
        for method in contact.methods.filter(kind=kind).order_by("-is_primary", "id")
    ]


def tags_of(contact: Contact) -> list[str]:
    return sorted(contact.tags.values_list("name", flat=True))
