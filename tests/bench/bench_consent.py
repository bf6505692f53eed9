"""The processing gate and consent badges at scale: 100k contacts x 7 purposes.

Fills its own team ("Consent bench team") once with ``--contacts`` contacts, each with a
ledger event and a state row for 7 purposes (a mix of grants, withdrawals, objections and
restrictions) and a preference row on every tenth, then times:

- ``allows(contact, purpose)`` for random contacts and purposes (and counts its queries);
- ``decisions_for`` and the consent badges for a page of 50 contacts (a list page);
- the DPO console's overview.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_consent
    uv run manage.py migrate
    uv run python tests/bench/bench_consent.py --contacts 100000 --runs 2000

Prints a Markdown table for docs/benchmarks.md ("Consent").
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialcrm.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from consent.gate import allows, decisions_for, purposes  # noqa: E402
from consent.models import ConsentEvent, ConsentState, PrivacyPreference, Purpose  # noqa: E402
from consent.selectors import console_overview  # noqa: E402
from contacts.models import Contact  # noqa: E402
from contacts.registry import contact_badges_for  # noqa: E402
from socialcrm.models import Team  # noqa: E402

TEAM = "Consent bench team"
PURPOSES = [
    "sales_outreach",
    "marketing_email",
    "enrichment",
    "social_listening",
    "sentiment_analysis",
    "offer_targeting",
    "influence_measurement",
]
# (action, weight): most people granted, some withdrew, a few objected or restricted.
ACTIONS = [("grant", 70), ("withdraw", 20), ("object", 7), ("restrict", 3)]
BATCH = 5000
PAGE = 50


def _state(action: str, event: ConsentEvent) -> ConsentState:
    return ConsentState(
        contact_id=event.contact_id,
        purpose_id=event.purpose_id,
        consent={"grant": "granted", "withdraw": "withdrawn"}.get(action, ""),
        lawful_basis=event.lawful_basis,
        objected=action == "object",
        restricted=action == "restrict",
        since=event.occurred_at,
        source=event.source,
        last_event=event,
    )


def fill(size: int, rng: random.Random, say: Callable[[str], None]) -> list[int]:
    """The bench team's contact ids, creating contacts, ledgers and states the first time."""
    team, _ = Team.objects.get_or_create(name=TEAM)
    existing = list(Contact.objects.filter(team=team).values_list("pk", flat=True))
    if len(existing) >= size:
        return existing[:size]
    catalogue = {purpose.code: purpose for purpose in Purpose.objects.filter(code__in=PURPOSES)}
    now = timezone.now()
    actions, weights = zip(*ACTIONS, strict=True)
    for start in range(len(existing), size, BATCH):
        with transaction.atomic():
            contacts = Contact.objects.bulk_create(
                [Contact(team=team, display_name=f"Bench {n}") for n in range(start, min(start + BATCH, size))]
            )
            picks = [(contact, code, rng.choices(actions, weights)[0]) for contact in contacts for code in PURPOSES]
            events = ConsentEvent.objects.bulk_create(
                [
                    ConsentEvent(
                        contact=contact,
                        purpose=catalogue[code],
                        action=action,
                        lawful_basis="consent" if action in {"grant", "withdraw"} else catalogue[code].lawful_basis,
                        source="import",
                        evidence="bench",
                        occurred_at=now,
                    )
                    for contact, code, action in picks
                ],
                batch_size=BATCH,
            )
            ConsentState.objects.bulk_create(
                [_state(action, event) for (_, _, action), event in zip(picks, events, strict=True)], batch_size=BATCH
            )
            PrivacyPreference.objects.bulk_create(
                [PrivacyPreference(contact=contact, do_not_contact=True) for contact in contacts[::10]]
            )
        say(f"  {start + len(contacts):,} contacts")
    with connection.cursor() as cursor:
        for table in ("contacts_contact", "consent_consentevent", "consent_consentstate", "consent_privacypreference"):
            cursor.execute(f"ANALYZE {table}")
    return list(Contact.objects.filter(team=team).values_list("pk", flat=True))[:size]


def measure(runs: int, call: Callable[[], Any]) -> tuple[float, float, int]:
    """p50 and p95 in milliseconds, and the queries of one call."""
    call()  # warm caches (purposes, connection)
    with CaptureQueriesContext(connection) as queries:
        call()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"Filling {args.contacts:,} contacts x {len(PURPOSES)} purposes...", file=sys.stderr)
    ids = fill(args.contacts, rng, lambda line: print(line, file=sys.stderr))
    purposes()

    def one_allows() -> None:
        allows(rng.choice(ids), rng.choice(PURPOSES))

    def page() -> list[Contact]:
        start = rng.randrange(0, len(ids) - PAGE)
        return [Contact(pk=pk) for pk in ids[start : start + PAGE]]

    rows = [
        ("`allows(contact, purpose)`, random contact and purpose", measure(args.runs, one_allows)),
        (
            f"`decisions_for(page of {PAGE}, purpose)`",
            measure(args.runs // 10, lambda: decisions_for(page(), rng.choice(PURPOSES))),
        ),
        (f"consent badges for a page of {PAGE}", measure(args.runs // 10, lambda: contact_badges_for(page()))),
        ("DPO console overview (whole database)", measure(5, console_overview)),
    ]
    states = ConsentState.objects.count()
    print(
        f"\n{connection.vendor} {connection.pg_version if connection.vendor == 'postgresql' else ''}, "  # type: ignore[attr-defined]
        f"Python {platform.python_version()}, {platform.machine()}; "
        f"{len(ids):,} contacts, {states:,} consent states\n"
    )
    print("| Operation | p50 (ms) | p95 (ms) | SQL queries |")
    print("|---|---:|---:|---:|")
    for name, (p50, p95, queries) in rows:
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {queries} |")


if __name__ == "__main__":
    main()
