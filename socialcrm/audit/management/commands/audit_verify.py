from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from socialcrm.audit.selectors import chain_verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain and report the first broken link (exit status 1 if broken)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = chain_verify()
        if not report.ok:
            raise CommandError(
                f"FAIL: audit event {report.broken_at}: {report.problem} ({report.verified} events before it verified)."
            )
        self.stdout.write(self.style.SUCCESS(f"OK: {report.verified} events verified"))
