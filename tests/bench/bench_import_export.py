"""Contact import and export at scale: a 100,000-row CSV in, 100,000 contacts out.

Import: builds a CSV of ``--rows`` rows (a generic spreadsheet: name, email, company, title,
phone, tags) with 2% repeated rows, 1% invalid emails and 5% people already in the team,
into its own team ("Import bench team", emptied first), then times the whole path: reading,
planning and storing the plan of every row (``import_preview``) and the commit
(``import_run``: the Celery task's body, writing the stored plan in batches of 2,500, the
suppression list asked again per batch). It reports the Python and PostgreSQL CPU seconds of
each step and the load average, since the machine is shared.

Export: streams the team's contacts as CSV and as vCard 4.0 (``contacts.exporting``, as the
view does: the processing gate asked for sales outreach first, audit events included) and
reports, for the first 10% and for all of them, the time and the CPU time of the benchmark
process and of its PostgreSQL backend (read from /proc when the server runs on this machine;
steadier than wall time on a shared machine),
then exports again under tracemalloc for the peak of Python allocations (tracing every
allocation slows Python down two to three times, so it is not timed): flat memory means the
two peaks match.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_import
    uv run manage.py migrate
    uv run python tests/bench/bench_import_export.py --rows 100000

Prints a Markdown table for docs/benchmarks.md ("Import and export").
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import resource
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialcrm.settings")

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from contacts import exporting  # noqa: E402
from contacts.models import Activity, Contact, ContactMethod, ImportJob, Organization  # noqa: E402
from contacts.services.imports import import_preview, import_run  # noqa: E402
from socialcrm.models import Team, User  # noqa: E402
from socialcrm.roles import Role  # noqa: E402

TEAM = "Import bench team"
USER = "import-bench@bench.example"


def build_csv(rows: int, rng: random.Random) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["First Name", "Last Name", "Email", "Company", "Job Title", "Phone", "Tags"])
    companies = [f"Company {index}" for index in range(max(1, rows // 25))]
    for index in range(rows):
        person = index if rng.random() > 0.02 else max(0, index - 1)  # a repeated row
        email = f"person{person}@bench{person % 97}.example"
        if rng.random() < 0.01:
            email = f"not-an-email-{index}"
        writer.writerow(
            [
                f"First{person}",
                f"Last{person}",
                email,
                companies[person % len(companies)],
                "Engineer",
                f"+44 20 7946 {person % 10000:04d}",
                "bench" if person % 5 == 0 else "",
            ]
        )
    return buffer.getvalue().encode()


def reset_team() -> tuple[Team, User]:
    team, _ = Team.objects.get_or_create(name=TEAM)
    user, created = User.objects.get_or_create(email=USER)
    if created:
        user.set_password(None)
        user.save()
    user.groups.add(Group.objects.get_or_create(name=Role.SALES)[0])
    team.members.add(user)
    ImportJob.objects.filter(team=team).delete()
    contacts = Contact.objects.filter(team=team)
    Contact.tags.through.objects.filter(contact__team=team).delete()
    Activity.objects.filter(contact__team=team).delete()
    ContactMethod.objects.filter(team=team).delete()
    contacts.delete()
    Organization.objects.filter(team=team).delete()
    return team, user


def seed_existing(team: Team, rows: int) -> None:
    """5% of the file's people are already in the team (matched and skipped or updated)."""
    existing = list(range(0, rows, 20))
    contacts = Contact.objects.bulk_create(
        [
            Contact(team=team, first_name=f"First{i}", last_name=f"Last{i}", display_name=f"First{i} Last{i}")
            for i in existing
        ]
    )
    ContactMethod.objects.bulk_create(
        [
            ContactMethod(
                contact=contact,
                team=team,
                kind="email",
                value=f"person{i}@bench{i % 97}.example",
                normalized=f"person{i}@bench{i % 97}.example",
                is_primary=True,
            )
            for contact, i in zip(contacts, existing, strict=True)
        ]
    )


def _clocks() -> tuple[float, float, float]:
    """(wall, this process's CPU, this connection's PostgreSQL backend CPU) in seconds."""
    return time.perf_counter(), time.process_time(), _database_cpu()


def _step(rows: int, start: tuple[float, float, float], end: tuple[float, float, float]) -> str:
    wall, python, database = (b - a for a, b in zip(start, end, strict=True))
    return f"{wall:.1f} s ({rows / wall:,.0f} rows/s; CPU: Python {python:.1f} s, PostgreSQL {database:.1f} s)"


def bench_import(rows: int) -> list[tuple[str, str]]:
    rng = random.Random(20_240_601)
    team, user = reset_team()
    seed_existing(team, rows)
    data = build_csv(rows, rng)
    load_before = os.getloadavg()[0]
    started = _clocks()
    job = import_preview(actor=user, team=team, file_name="bench.csv", data=data)
    previewed = _clocks()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    import_run(job_id=job.pk)
    done = _clocks()
    job.refresh_from_db()
    return [
        ("File", f"{rows:,} rows, {len(data) / 1e6:.1f} MB"),
        ("Result", ", ".join(f"{count:,} {action}" for action, count in sorted(job.counts.items()))),
        ("Preview (read, detect, plan every row, store the plan)", _step(rows, started, previewed)),
        ("Commit (the task: write the stored plan)", _step(rows, previewed, done)),
        ("Upload to done, end to end", _step(rows, started, done)),
        ("Load average (1 min) before / after", f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"),
    ]


def _drain(lines: object) -> int:
    size = 0
    for piece in lines:  # type: ignore[attr-defined]
        size += len(piece.encode())
    return size


def _backend_pid(database: Any) -> int:
    with database.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _backend_cpu(pid: int) -> float:
    """CPU seconds of PostgreSQL backend ``pid`` so far (NaN for a remote server)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return float("nan")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


# The import's writer thread has a connection of its own, closed when it is done: its
# backend's CPU is read just before, and counted with this connection's.
_closed_backends_cpu = 0.0


def _count_thread_backend(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "postgresql" or threading.current_thread() is threading.main_thread():
        return
    pid, close = _backend_pid(connection), connection.close

    def close_counted() -> None:
        global _closed_backends_cpu
        _closed_backends_cpu += _backend_cpu(pid)
        close()

    connection.close = close_counted


connection_created.connect(_count_thread_backend)


def _database_cpu() -> float:
    """CPU seconds of this process's PostgreSQL backends so far (NaN for a remote server)."""
    return _backend_cpu(_backend_pid(connection)) + _closed_backends_cpu


def bench_export(fraction: float, fmt: str, *, traced: bool) -> tuple[float, float, float, float, int, int]:
    """(seconds, Python CPU seconds, PostgreSQL CPU seconds, peak MB of Python allocations or 0
    when not ``traced``, bytes, contacts) for the first ``fraction`` of the team."""
    team = Team.objects.get(name=TEAM)
    user = User.objects.get(email=USER)
    ids = Contact.objects.filter(team=team).order_by("id").values_list("id", flat=True)
    count = ids.count()
    last = ids[max(0, int(count * fraction) - 1)]
    contacts = Contact.objects.filter(team=team, id__lte=last)
    request = RequestFactory().get("/contacts/export.csv")
    request.user = user
    if traced:
        tracemalloc.start()
    database_started = _database_cpu()
    started, cpu_started = time.perf_counter(), time.process_time()
    # For sales outreach (the default): the gate is asked about every contact first.
    export = exporting.contacts_export(contacts, fmt=fmt, purpose="sales_outreach", request=request, actor=user)
    size = _drain(export.body)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    database_cpu = _database_cpu() - database_started
    peak = 0
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return elapsed, cpu, database_cpu, peak / 1e6, size, contacts.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-import", action="store_true", help="export what the last run imported")
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    print(f"{platform.node()} Python {platform.python_version()} {connection.vendor}", file=sys.stderr)
    if not args.skip_import:
        print("| Import | |\n|---|---|")
        for label, value in bench_import(args.rows):
            print(f"| {label} | {value} |")
    if args.skip_export:
        return
    print(f"\nLoad average before the exports: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    print(
        "\n| Export | Contacts | Time (s) | Python CPU (s) | PostgreSQL CPU (s) | Contacts/s | Output (MB)"
        " | Peak Python memory (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for fmt in ("csv", "vcard"):
        for fraction in (0.1, 1.0):
            elapsed, cpu, database_cpu, _, size, count = bench_export(fraction, fmt, traced=False)
            peak = bench_export(fraction, fmt, traced=True)[3]
            print(
                f"| {fmt} | {count:,} | {elapsed:.1f} | {cpu:.1f} | {database_cpu:.1f} | {count / elapsed:,.0f}"
                f" | {size / 1e6:.1f} | {peak:.1f} |"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak RSS of the whole run: {rss:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
