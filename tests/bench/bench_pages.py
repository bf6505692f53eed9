"""Server time and SQL queries of the main pages on a big database.

Run against a database filled by ``seed_scale`` (its "Scale team"), e.g. on PostgreSQL:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench
    uv run manage.py migrate
    uv run manage.py seed_scale --contacts 100000 --activities-per-contact 50
    uv run python tests/bench/bench_pages.py --runs 100

Each page is requested through Django's test client (the whole stack: middleware, view,
templates, the database), signed in as the Scale team's sales user. It prints p50/p95 of
the server time and the number of SQL queries per request, as a Markdown table for
docs/benchmarks.md. The first run adds one "heavy" contact with enough entries for
timeline page 50.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialcrm.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from contacts.management.commands.seed_scale import BODY, SCALE_TEAM, SCALE_USER  # noqa: E402
from contacts.models import Activity, Contact, Organization, Tag  # noqa: E402
from contacts.selectors import TIMELINE_PAGE_SIZE, timeline_page  # noqa: E402
from socialcrm.models import User  # noqa: E402

HEAVY_NAME = "Heavy Timeline"
TARGET_PAGE = 50


def _heavy_contact(owner: User) -> Contact:
    """A contact with more than 50 pages of timeline (created once)."""
    contact = Contact.objects.filter(team__name=SCALE_TEAM, display_name=HEAVY_NAME).first()
    if contact is not None:
        return contact
    contact = Contact.objects.create(
        team=owner.teams.get(name=SCALE_TEAM),
        owner=owner,
        first_name="Heavy",
        last_name="Timeline",
        display_name=HEAVY_NAME,
    )
    now = timezone.now()
    entries = TIMELINE_PAGE_SIZE * (TARGET_PAGE + 2)
    Activity.objects.bulk_create(
        [
            Activity(
                contact=contact,
                occurred_at=now - timedelta(hours=3 * n),
                kind="note",
                actor=owner,
                subject=f"Note #{n}",
                body=BODY,
                source="seed",
            )
            for n in range(entries)
        ],
        batch_size=2000,
    )
    return contact


def _cursor_of_page(user: User, contact: Contact, page: int) -> str:
    before = None
    for _ in range(page - 1):
        before = timeline_page(user=user, contact=contact, before=before).next_cursor
        assert before is not None, "the heavy contact has too few entries"
    assert before is not None
    return before.encode()


def _measure(client: Client, url: str, runs: int, headers: dict[str, str]) -> tuple[list[float], list[float], int]:
    """Server time and Python CPU time (ms) of each timed request, and the most queries one ran."""
    timings, cpu, queries = [], [], 0
    for run in range(runs + 3):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, headers=headers)
            elapsed, elapsed_cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if run >= 3:  # the first requests warm caches and connections
            timings.append(elapsed)
            cpu.append(elapsed_cpu)
            queries = max(queries, len(captured))
    return timings, cpu, queries


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50, help="Timed requests per page (after 3 warm-up requests).")
    parser.add_argument(
        "--only", action="append", default=[], help="Only the pages whose name contains this (repeatable)."
    )
    args = parser.parse_args()

    # Not setup_test_environment(): it instruments template rendering for the test client
    # (a signal and a copy of the context per template rendered: about 10 ms on the contact
    # page, with its ~130 templates) and a server does not run that.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user = User.objects.get(email=SCALE_USER)
    client = Client()
    client.force_login(user)
    contacts = Contact.objects.filter(team__name=SCALE_TEAM)
    contact_count = contacts.count()
    activity_count = Activity.objects.filter(contact__team__name=SCALE_TEAM).count()
    sample = contacts.order_by("?").first()
    assert sample is not None, "run seed_scale first"
    heavy = _heavy_contact(user)
    organization = Organization.objects.filter(pk=sample.organization_id).first() or Organization.objects.first()
    tag = Tag.objects.filter(team__name=SCALE_TEAM).first()
    htmx = {"HX-Request": "true"}

    pages: list[tuple[str, Callable[[], str], dict[str, str]]] = [
        ("Contact list, no filter", lambda: reverse("contacts:list"), {}),
        ("Contact list, filtered by tag", lambda: f"{reverse('contacts:list')}?tag={tag.pk if tag else ''}", {}),
        ("Contact list, text search", lambda: f"{reverse('contacts:list')}?q=lovelace", {}),
        # Too short for a trigram: a word-prefix search of the full-text index (contacts/search.py).
        ("Contact list, 2-letter search", lambda: f"{reverse('contacts:list')}?q=lo", {}),
        ("Contact page", lambda: reverse("contacts:detail", kwargs={"pk": sample.pk}), {}),
        ("Timeline page 1 (htmx)", lambda: reverse("contacts:timeline", kwargs={"pk": heavy.pk}), htmx),
        (
            f"Timeline page {TARGET_PAGE} (htmx, keyset)",
            lambda: (
                reverse("contacts:timeline", kwargs={"pk": heavy.pk})
                + f"?before={_cursor_of_page(user, heavy, TARGET_PAGE)}"
            ),
            htmx,
        ),
        ("Organization page", lambda: reverse("contacts:organization_detail", kwargs={"pk": organization.pk}), {}),
    ]
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"Database: {connection.vendor} {connection.pg_version if connection.vendor == 'postgresql' else ''}")
    print(f"Scale: {contact_count} contacts, {activity_count} timeline entries; {args.runs} timed requests per page\n")
    print(f"Load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())}\n")
    # The CPU column is this process's (Django's) time alone, without waiting for the
    # database or for a core: on a shared machine it moves far less than the server time.
    print("| Page | p50 ms | p95 ms | Python CPU p50 ms | SQL queries |")
    print("|---|---:|---:|---:|---:|")
    for name, url_of, headers in pages:
        if args.only and not any(part.lower() in name.lower() for part in args.only):
            continue
        try:
            url = url_of()
        except NoReverseMatch:
            print(f"| {name} | (no such URL) | | | |")
            continue
        timings, cpu, queries = _measure(client, url, args.runs, headers)
        p50, p95 = statistics.median(timings), _percentile(timings, 0.95)
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {statistics.median(cpu):.1f} | {queries} |")
    print(f"\nLoad average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
