"""Email ingestion at scale: an mbox of 10,000 messages through the whole pipeline.

Builds an mbox in memory (fixed seed): three in four messages are conversations with one
of ``--contacts`` people of an "Email bench team" (threads of 1-4 messages, half of them
``multipart/alternative`` with a quoted-printable HTML part, some with a PDF attachment,
RFC 2047 subjects), one in four are newsletters that match nobody. Then times:

- parsing only (``read_messages`` + ``parse_message``);
- ``email_ingest`` of the whole mbox into an empty timeline (parse, match, record);
- the same mbox again (every message already logged: the dedupe path);
- the mbox as a large upload is logged: kept on a background job, then logged by its task
  (in-process without ``REDIS_URL``) saving progress with each batch, into an empty timeline.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_mail
    uv run manage.py migrate
    uv run python tests/bench/bench_email.py --messages 10000

Each run deletes the bench team's email entries first. Prints a Markdown table for
docs/benchmarks.md ("Email").
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import sys
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialcrm.settings")

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from contacts.email.ingest import IngestResult, Source, email_ingest  # noqa: E402
from contacts.email.parse import parse_message, read_messages  # noqa: E402
from contacts.email.services import email_upload_queue  # noqa: E402
from contacts.models import Activity, Contact, ContactMethod, EmailUploadJob, TeamSettings  # noqa: E402
from socialcrm.models import Team, User  # noqa: E402
from socialcrm.roles import Role  # noqa: E402

TEAM = "Email bench team"
USER = "email-bench@ourco.example"
MAX_BYTES = 10 * 1_048_576


def fill(size: int) -> list[str]:
    """The bench team's contact addresses, creating the team and contacts the first time."""
    team, _ = Team.objects.get_or_create(name=TEAM)
    TeamSettings.objects.update_or_create(team=team, defaults={"own_domains": ["ourco.example"]})
    user, _ = User.objects.get_or_create(email=USER, defaults={"first_name": "Bench"})
    team.members.add(user)
    # A salesperson: an upload job matches what its uploader sees (contacts/email/selectors.py).
    user.groups.add(Group.objects.get(name=Role.SALES.value))
    have = Contact.objects.filter(team=team).count()
    contacts = [
        Contact(team=team, first_name=f"Person{index}", last_name="Bench", display_name=f"Person{index} Bench")
        for index in range(have, size)
    ]
    Contact.objects.bulk_create(contacts, batch_size=1000)
    methods = [
        ContactMethod(
            contact=contact,
            team=team,
            kind="email",
            value=f"person{contact.first_name[6:]}@client{int(contact.first_name[6:]) % 50}.example",
            normalized=f"person{contact.first_name[6:]}@client{int(contact.first_name[6:]) % 50}.example",
            is_primary=True,
        )
        for contact in contacts
    ]
    ContactMethod.objects.bulk_create(methods, batch_size=1000)
    return list(
        ContactMethod.objects.filter(team=team, kind="email").order_by("id").values_list("normalized", flat=True)
    )


def _message(rng: random.Random, index: int, person: str, when: Any, parent: list[str]) -> EmailMessage:
    message = EmailMessage()
    ours = rng.random() < 0.5
    sender, recipient = ("Sam Seller <sam@ourco.example>", person) if ours else (person, "sam@ourco.example")
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = ("Re: " if parent else "") + f"Proposal n\u00b0{index // 4} \u2013 next steps"
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<bench.{index}@mail.example>"
    if parent:
        message["In-Reply-To"] = f"<{parent[-1]}>"
        message["References"] = " ".join(f"<{ref}>" for ref in parent)
    text = f"Hello,\n\nThanks for message {index}. " + "Some words of the conversation. " * rng.randint(5, 40)
    message.set_content(text)
    if rng.random() < 0.5:
        message.add_alternative(f"<p>{text}</p><p><b>Regards</b></p>", subtype="html")
    if rng.random() < 0.1:
        message.add_attachment(b"%PDF-1.4 bench" * 100, maintype="application", subtype="pdf", filename="offer.pdf")
    return message


def build_mbox(count: int, addresses: list[str], rng: random.Random) -> bytes:
    out = io.BytesIO()
    start = timezone.now() - timezone.timedelta(days=365)
    thread: list[str] = []
    person = addresses[0]
    for index in range(count):
        when = start + timezone.timedelta(minutes=index * 30)
        if rng.random() < 0.25:
            message = EmailMessage()
            message["From"] = f"News {index % 20} <news@list{index % 20}.example>"
            message["To"] = "sam@ourco.example"
            message["Subject"] = "Weekly digest"
            message["Date"] = format_datetime(when)
            message["Message-ID"] = f"<news.{index}@list.example>"
            message.set_content("Unsubscribe at any time. " * 30)
        else:
            if not thread or len(thread) >= rng.randint(1, 4):
                thread, person = [], rng.choice(addresses)
            message = _message(rng, index, person, when, thread)
            thread.append(f"bench.{index}@mail.example")
        out.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2024\n")
        out.write(bytes(message).replace(b"\nFrom ", b"\n>From "))
        out.write(b"\n")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    addresses = fill(args.contacts)
    user = User.objects.get(email=USER)
    team = Team.objects.get(name=TEAM)
    data = build_mbox(args.messages, addresses, rng)
    Activity.objects.filter(contact__team=team, kind="email").delete()
    contacts = Contact.objects.filter(team=team)

    rows = []
    started, cpu = time.perf_counter(), time.process_time()
    parsed = sum(1 for raw in read_messages(io.BytesIO(data), max_bytes=MAX_BYTES) if parse_message(raw))
    rows.append(("Parse only", parsed, time.perf_counter() - started, time.process_time() - cpu, None))
    for label in ("Ingest into an empty timeline", "Ingest again (all already logged)"):
        started, cpu = time.perf_counter(), time.process_time()
        result = email_ingest(
            actor=user,
            source=Source.UPLOAD,
            raw_messages=read_messages(io.BytesIO(data), max_bytes=MAX_BYTES),
            contacts=contacts,
            own_addresses=[USER],
            max_bytes=MAX_BYTES,
        )
        rows.append((label, result.messages, time.perf_counter() - started, time.process_time() - cpu, result))
    Activity.objects.filter(contact__team=team, kind="email").delete()
    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():  # the task runs once this commits (in-process without REDIS_URL)
        job = email_upload_queue(actor=user, target=None, file_name="bench.mbox", data=data)
    job = EmailUploadJob.objects.get(pk=job.pk)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    assert job.status == EmailUploadJob.Status.DONE, job.failure
    job_result = IngestResult(
        **{key: job.counts[key] for key in ("messages", "logged", "already_logged", "unmatched", "entries_created")}
    )
    rows.append(("Background upload job, empty timeline", job_result.messages, seconds, cpu_seconds, job_result))

    print(
        f"{args.messages:,} messages ({len(data) / 1_048_576:.1f} MB), {args.contacts:,} contacts; "
        f"{connection.vendor}, Python {platform.python_version()}"
    )
    print()
    # Wall time is what a user waits; CPU time is this Python process alone (not PostgreSQL's),
    # which on a shared, loaded machine says what the code costs.
    print("| Run | Messages | Wall s | Messages/s | Python CPU s | Messages/CPU s | Logged | Already | Unmatched |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, count, seconds, cpu_seconds, result in rows:
        counts = f"{result.logged:,} | {result.already_logged:,} | {result.unmatched:,}" if result else "- | - | -"
        print(
            f"| {label} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} | {cpu_seconds:.2f} "
            f"| {count / cpu_seconds:,.0f} | {counts} |"
        )


if __name__ == "__main__":
    main()
