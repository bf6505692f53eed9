"""``manage.py enrich --html FILE --url URL``: what the website provider reads from a saved page.

Runs the provider's own parser on a local file, so an admin can see why a site yields what
it yields, with no network access at all.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from enrichment.http import Fetched
from enrichment.providers.website import parse_site
from enrichment.sanitize import safe_url


class Command(BaseCommand):
    help = "Parse a saved web page exactly as the website provider would and print its findings as JSON."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--html", required=True, type=Path, help="a saved HTML page")
        parser.add_argument("--url", required=True, help="the URL the page was fetched from (resolves its links)")

    def handle(self, *args: Any, **options: Any) -> None:
        found = self.parse_saved_page(options["html"], options["url"])
        self.stdout.write(json.dumps(found, indent=2, ensure_ascii=False))

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
