"""Enrichment throughput: contacts enriched per second by one worker process of concurrency 8.

Starts fake providers on loopback (tests/enrichment/fake_providers.py: Gravatar, GitHub and
a personal website, each answer after ``--latency`` seconds), adds ``--contacts`` contacts
to an "Enrichment bench team" (a free-mail email, a website and a GitHub handle each, so
three providers have something to ask and three have nothing), starts ONE real Celery
worker process (``-Q enrichment -P threads -c 8``) against Redis, queues one
``enrich_contact`` per contact through the outbox, and times until every contact's run has
been recorded.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_pipeline
    export REDIS_URL=redis://127.0.0.1:6379/12
    uv run manage.py migrate
    uv run python tests/bench/bench_enrichment.py --contacts 400 --latency 0.1

Prints a Markdown table for docs/benchmarks.md ("Enrichment").
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialcrm.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from contacts.models import Contact, ContactMethod  # noqa: E402
from enrichment import resilience  # noqa: E402
from enrichment.models import ProviderCheck, SocialProfile  # noqa: E402
from enrichment.tasks import ENRICH_CONTACT  # noqa: E402
from socialcrm.celery import app as celery_app  # noqa: E402
from socialcrm.models import Team  # noqa: E402
from socialcrm.outbox import enqueue  # noqa: E402
from tests.enrichment.fake_providers import FakeProviders, fake_providers  # noqa: E402

TEAM = "Enrichment bench team"


def make_contacts(team: Team, count: int, fake: FakeProviders) -> list[int]:
    run = uuid.uuid4().hex[:8]
    contacts = Contact.objects.bulk_create(
        [Contact(team=team, first_name=f"Bench{n}", display_name=f"Bench {run} {n}") for n in range(count)]
    )
    methods = []
    for n, contact in enumerate(contacts):
        login = f"b{run}{n}"
        email = f"{login}@gmail.com"  # free mail: the company provider has nothing to ask
        site = fake.site(login)
        methods += [
            ContactMethod(contact=contact, team=team, kind="email", value=email, normalized=email, is_primary=True),
            ContactMethod(contact=contact, team=team, kind="website", value=site, normalized=site, is_primary=True),
            ContactMethod(contact=contact, team=team, kind="handle", value=f"github:{login}", normalized=login),
        ]
    ContactMethod.objects.bulk_create(methods)
    return [contact.pk for contact in contacts]


def start_worker(fake: FakeProviders, concurrency: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENRICHMENT_ALLOW_PRIVATE_ADDRESSES": "true",
        "ENRICHMENT_GRAVATAR_URL": f"{fake.base}/gravatar",
        "ENRICHMENT_GITHUB_API_URL": f"{fake.base}/github",
        # The fake providers have no quota; the benchmark measures the pipeline, not the limiter.
        "ENRICHMENT_RATE_PER_SECOND": "100000",
        "ENRICHMENT_RATE_BURST": "100000",
        "ENRICHMENT_AUTOMATIC": "false",
    }
    argv = [sys.executable, "-m", "celery", "-A", "socialcrm", "worker", "-Q", "enrichment", "-P", "threads"]
    argv += ["-c", str(concurrency), "--without-gossip", "--without-mingle", "-l", "warning"]
    return subprocess.Popen(argv, cwd=BASE_DIR, env=env)  # noqa: S603 - fixed argv


def wait_until_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if celery_app.control.ping(timeout=1):
            return
    raise RuntimeError("the worker did not answer a ping")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds each fake provider answer takes")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if not settings.REDIS_URL:
        sys.exit("Set REDIS_URL: the benchmark runs a real worker against Redis.")
    resilience.reset_limits()
    team, _ = Team.objects.get_or_create(name=TEAM)
    with fake_providers(latency=args.latency) as fake:
        ids = make_contacts(team, args.contacts, fake)
        celery_app.control.purge()
        worker = start_worker(fake, args.concurrency)
        try:
            wait_until_ready()
            # Queue everything first (the outbox publishes one message at a time), then let the
            # worker consume: the figure is the worker's throughput, not the publisher's.
            celery_app.control.cancel_consumer("enrichment", reply=True)
            publishing = time.monotonic()
            with transaction.atomic():
                for pk in ids:
                    enqueue(ENRICH_CONTACT, pk, True)
            queued = time.monotonic() - publishing
            started = time.monotonic()
            celery_app.control.add_consumer("enrichment", reply=True)
            done = 0
            while done < len(ids):
                time.sleep(0.2)
                done = ProviderCheck.objects.filter(contact_id__in=ids).values("contact_id").distinct().count()
                if time.monotonic() - started > 600:
                    raise RuntimeError(f"only {done} of {len(ids)} contacts done after 10 minutes")
            elapsed = time.monotonic() - started
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
        profiles = SocialProfile.objects.filter(contact_id__in=ids).count()
        requests = len(fake.requests)
    print(f"Python {platform.python_version()}, {platform.system()} {platform.release()}, {os.cpu_count()} CPUs")
    print(f"latency {args.latency * 1000:.0f} ms per provider request, worker -P threads -c {args.concurrency}\n")
    print("| Contacts | Provider requests | Profiles stored | Publishing (s) | Enriching (s) | Contacts/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {len(ids)} | {requests} | {profiles} | {queued:.2f} | {elapsed:.2f} | {len(ids) / elapsed:.1f} |")


if __name__ == "__main__":
    main()
