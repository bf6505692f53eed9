"""The reminders' beat ticks on a big database: 1M reminders, 100k contacts with cadences.

Run against PostgreSQL (the fill uses generate_series), e.g.:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench_reminders
    uv run manage.py migrate
    REDIS_URL=redis://127.0.0.1:6379/14 uv run python tests/bench/bench_reminders.py --runs 50

With ``REDIS_URL`` set the due tick publishes its send tasks to the broker as in production
(nothing consumes them here; flush that Redis database afterwards); without it Celery runs
them eagerly, inside the tick, which is not what is measured.

The first run fills a "Reminders bench" team: ``--users`` sales users, ``--contacts``
contacts with a keep-in-touch cadence (clocks spread over the next year, so few are due at
any minute) and ``--reminders`` reminders (about 70 % closed, 20 % open in the future, 10 %
overdue). Each measured tick first arms the work of a typical busy minute (``--per-tick``
reminders falling due, contacts past their cadence and emails awaiting a reply), outside
the timing, then runs the tick's service. Prints p50/p95 and the SQL queries of one tick as
a Markdown table for docs/benchmarks.md.
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
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialcrm.settings")

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from contacts import tasks  # noqa: E402
from contacts.models import Contact, Notification, Reminder  # noqa: E402
from contacts.selectors_reminders import due_count  # noqa: E402
from contacts.services import notifications, nudges  # noqa: E402
from socialcrm.models import Team, User  # noqa: E402
from socialcrm.roles import Role  # noqa: E402

TEAM = "Reminders bench"


def fill(users: int, contacts: int, reminders: int, say: Callable[[str], None]) -> Team:
    """The bench team, filled the first time (SQL generate_series: about a minute for 1M rows)."""
    team, _ = Team.objects.get_or_create(name=TEAM)
    if Reminder.objects.filter(contact__team=team).exists():
        return team
    if connection.vendor != "postgresql":
        raise SystemExit("The fill needs PostgreSQL (generate_series).")
    sales = Group.objects.get(name=Role.SALES.value)
    people = [User.objects.create_user(f"bench{n}@reminders.bench", "x") for n in range(users)]
    team.members.add(*people)
    sales.user_set.add(*people)
    ids = [person.pk for person in people]
    with transaction.atomic(), connection.cursor() as cursor:
        say(f"  {contacts:,} contacts with cadences")
        cursor.execute(
            """
            INSERT INTO contacts_contact (team_id, owner_id, first_name, last_name, display_name, title, location,
                notes, archived, cadence_days, created_at, updated_at, last_contacted_at, cadence_due_at)
            SELECT %s, (%s::bigint[])[1 + n %% %s], '', '', 'Bench ' || n, '', '', '', false, 30,
                   now() - interval '400 days', now(),
                   now() - interval '30 days' + (n %% 525600) * interval '1 minute',
                   now() + (n %% 525600) * interval '1 minute'
            FROM generate_series(1, %s) AS n
            """,
            [team.pk, ids, len(ids), contacts],
        )
        first, last = Contact.objects.filter(team=team).order_by("pk").values_list("pk", flat=True)[:: contacts - 1]
        say(f"  {reminders:,} reminders")
        cursor.execute(
            """
            INSERT INTO contacts_reminder (contact_id, assignee_id, created_by_id, kind, due_at, note, status,
                recurrence, series_index, created_at, updated_at, completed_at, notify_at)
            SELECT c, a, a, 'manual', due, 'Bench', status, '', 0, due - interval '7 days', now(),
                   CASE WHEN status = 'done' THEN due + interval '1 hour' END,
                   CASE WHEN status = 'open' AND due > now() THEN due END
            FROM (
                SELECT %s + (n %% (%s - %s + 1)) AS c,
                       (%s::bigint[])[1 + n %% %s] AS a,
                       CASE WHEN n %% 10 < 7 THEN 'done' ELSE 'open' END AS status,
                       CASE WHEN n %% 10 = 9 THEN now() - (n %% 50000) * interval '1 minute'
                            ELSE now() + (n %% 500000) * interval '1 minute' - interval '200 days' * (n %% 10 < 7)::int
                       END AS due
                FROM generate_series(1, %s) AS n
            ) AS rows
            """,
            [first, last, first, ids, len(ids), reminders],
        )
        for table in ("contacts_contact", "contacts_reminder"):
            cursor.execute(f"ANALYZE {table}")
    return team


def measure(runs: int, arm: Callable[[], Any], call: Callable[[], Any]) -> tuple[float, float, int]:
    """p50 and p95 in milliseconds of ``call`` (each after ``arm``, untimed), and the queries of one call."""
    arm()
    call()  # warm: connection, purpose cache, templates
    arm()
    connection.queries_log.clear()  # the log keeps 9000 entries; a full one miscounts
    with CaptureQueriesContext(connection) as queries:
        call()
    timings = []
    for _ in range(runs):
        arm()
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--reminders", type=int, default=1_000_000)
    parser.add_argument("--per-tick", type=int, default=20, help="reminders / breaches arriving per minute")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup_test_environment()  # locmem email backend: the deliver step renders and "sends" for real
    rng = random.Random(args.seed)
    print(f"Filling {args.contacts:,} contacts and {args.reminders:,} reminders...", file=sys.stderr)
    team = fill(args.users, args.contacts, args.reminders, lambda line: print(line, file=sys.stderr))
    contact_ids = list(Contact.objects.filter(team=team).values_list("pk", flat=True))
    reminder_ids = list(
        Reminder.objects.filter(contact__team=team, status="open").values_list("pk", flat=True)[:200_000]
    )
    user = User.objects.filter(teams=team).first()

    def arm_due() -> None:
        # Reminders falling due this minute; their earlier notifications forgotten, so they notify
        # again. What earlier runs left unsent is marked sent, so each tick enqueues only its own.
        Notification.objects.filter(sent_at__isnull=True).update(sent_at=timezone.now())
        chosen = rng.sample(reminder_ids, args.per_tick)
        Notification.objects.filter(reminder_id__in=chosen).delete()
        Reminder.objects.filter(pk__in=chosen).update(due_at=timezone.now() - timedelta(seconds=30))
        Reminder.objects.filter(pk__in=chosen).update(notify_at=timezone.now() - timedelta(seconds=30))

    def arm_sends() -> None:
        arm_due()
        notifications.due_notifications_make()

    def send_all() -> None:
        # What the workers do for one busy minute: one notification_send task per notification.
        for pk in Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
            tasks.notification_send(pk)

    def arm_clock(clock: str, kind: str) -> Callable[[], None]:
        def arm() -> None:
            chosen = rng.sample(contact_ids, args.per_tick)
            Reminder.objects.filter(contact_id__in=chosen, kind=kind).delete()
            Contact.objects.filter(pk__in=chosen).update(**{clock: timezone.now() - timedelta(seconds=30)})

        return arm

    def nothing() -> None:
        pass

    due = notifications.due_notifications_make
    cadence = arm_clock("cadence_due_at", Reminder.Kind.CADENCE)
    reply = arm_clock("reply_due_at", Reminder.Kind.AWAITING_REPLY)
    n = args.per_tick
    rows = [
        (f"due notifications: find and claim {n}", measure(args.runs, arm_due, due)),
        (f"due tick end to end: claim {n}, enqueue {n} sends", measure(args.runs, arm_due, tasks.reminders_due_tick)),
        ("due tick end to end: idle (nothing due)", measure(args.runs, nothing, tasks.reminders_due_tick)),
        (f"workers (not the tick): email the {n} notifications", measure(args.runs // 5 or 1, arm_sends, send_all)),
        (f"cadence nudges: {n} breaches (gate asked each)", measure(args.runs, cadence, nudges.cadence_nudges_make)),
        ("cadence nudges: idle tick", measure(args.runs, nothing, nudges.cadence_nudges_make)),
        (f"awaiting-reply nudges: {n} breaches", measure(args.runs, reply, nudges.awaiting_reply_nudges_make)),
        ("daily digests: which users are due (all users)", measure(args.runs, nothing, notifications.digests_make)),
        ("the bell for one user", measure(args.runs, nothing, lambda: due_count(user))),
    ]
    total = Reminder.objects.count()
    cadenced = Contact.objects.filter(cadence_days__isnull=False).count()
    version = connection.pg_version if connection.vendor == "postgresql" else ""  # type: ignore[attr-defined]
    print(
        f"\n{connection.vendor} {version}, Python {platform.python_version()}, {platform.machine()}; "
        f"{total:,} reminders, {cadenced:,} contacts with a cadence, {args.users} users\n"
    )
    print("| Tick step | p50 (ms) | p95 (ms) | SQL queries |")
    print("|---|---:|---:|---:|")
    for label, (p50, p95, queries) in rows:
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
