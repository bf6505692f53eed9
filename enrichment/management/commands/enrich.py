"""What enrichment would do, for admins, without any network access.

- ``manage.py enrich --html FILE --url URL``: the website provider's own parser on a saved
  page, so an admin can see why a site yields what it yields;
- ``manage.py enrich CONTACT_ID --dry-run``: which providers would be asked about a contact
  (and with what), which would be skipped and why, and whether the gate allows it now
  (``stopped_by``: ``gate`` or ``suppression`` when nobody would be asked at all).
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contacts.models import Contact
from contacts.registry import gate_allows
from enrichment import pipeline
from enrichment.http import Fetched
from enrichment.providers.website import parse_site
from enrichment.sanitize import safe_url


class Command(BaseCommand):
    help = (
        "Parse a saved web page exactly as the website provider would (--html FILE --url URL), or show "
        "what a contact's enrichment would look up (CONTACT_ID --dry-run); prints JSON, never goes online."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("contact_id", nargs="?", type=int, help="a contact to plan a lookup for (with --dry-run)")
        parser.add_argument("--dry-run", action="store_true", help="only show what would be looked up (required)")
        parser.add_argument("--html", type=Path, help="a saved HTML page")
        parser.add_argument("--url", help="the URL the page was fetched from (resolves its links)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["contact_id"] is not None:
            if not options["dry_run"]:
                raise CommandError("Only --dry-run is supported for a contact; the lookup itself runs on a worker.")
            found = self.plan_lookup(options["contact_id"])
        elif options["html"] and options["url"]:
            found = self.parse_saved_page(options["html"], options["url"])
        else:
            raise CommandError("Give --html FILE --url URL, or CONTACT_ID --dry-run.")
        self.stdout.write(json.dumps(found, indent=2, ensure_ascii=False))

    def plan_lookup(self, contact_id: int) -> dict[str, Any]:
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is None:
            raise CommandError(f"No contact {contact_id}.")
        decision = gate_allows(contact, "enrichment")
        subject = pipeline.subject_for(contact)
        suppressed = pipeline.is_suppressed(subject)
        plan = pipeline.plan(contact, subject)
        # The task stops at the gate, then at the suppression list, before asking anybody.
        stopped_by = "gate" if not decision.allowed else "suppression" if suppressed else None
        return {
            "contact": contact.pk,
            "gate": {"allowed": decision.allowed, "reason": decision.reason},
            "suppressed": suppressed,
            "stopped_by": stopped_by,
            "subject": {
                "emails": list(subject.emails),
                "websites": list(subject.websites),
                "handles": [handle.value for handle in subject.handles],
            },
            "would_ask": [] if stopped_by else [provider.name for provider in plan.ask],
            "skipped": plan.skipped,
        }

    def parse_saved_page(self, path: Path, url: str) -> dict[str, Any]:
        if not safe_url(url):
            raise CommandError(f"--url must be an absolute http(s) URL, not {url!r}")
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        if len(content) > settings.ENRICHMENT_MAX_BODY_BYTES:
            raise CommandError(f"{path} is larger than ENRICHMENT_MAX_BODY_BYTES; the provider would not read it")
        # Decoded as a fetched page without a charset header would be.
        page = Fetched(url=url, status=200, headers={"content-type": "text/html"}, content=content)
        return parse_site(page.text, page.url).as_json()
