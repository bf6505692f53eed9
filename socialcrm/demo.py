"""Demo accounts and team for ``manage.py demo``; apps add their data through the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from allauth.account.models import EmailAddress
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Group
from django.db import transaction

from socialcrm.celery import app as celery_app
from socialcrm.models import Team, User
from socialcrm.registry import DemoContext, demo_loaders
from socialcrm.roles import Role

DEMO_PASSWORD = "socialcrm-demo"  # noqa: S105 - published demo credentials, demo command only
DEMO_TEAM = "Demo team"
DEMO_ACCOUNTS: dict[str, tuple[str, str, Role | None]] = {
    "sales": ("sales@demo.example", "Sam Sales", Role.SALES),
    "manager": ("manager@demo.example", "Maya Manager", Role.MANAGER),
    "dpo": ("dpo@demo.example", "Dana Protection", Role.DPO),
    "admin": ("admin@demo.example", "Ada Admin", None),
}


def _demo_user(email: str, full_name: str, role: Role | None) -> User:
    first_name, last_name = full_name.split(" ", 1)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, first_name=first_name, last_name=last_name)
    user.set_password(DEMO_PASSWORD)
    user.is_active = True
    user.is_staff = user.is_superuser = role is None
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


@transaction.atomic
def load_demo(say: Callable[[str], None]) -> DemoContext:
    """Create (or reset the passwords of) the demo accounts, then run every app's loader."""
    users = {key: _demo_user(*spec) for key, spec in DEMO_ACCOUNTS.items()}
    team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
    team.members.add(users["sales"], users["manager"])
    team.managers.add(users["manager"])
    context = DemoContext(
        team=team,
        sales=users["sales"],
        manager=users["manager"],
        dpo=users["dpo"],
        admin=users["admin"],
        say=say,
    )
    for loader in demo_loaders():
        say(f"Loading demo data: {loader.name}")
        loader.load(context)
    return context


@contextmanager
def tasks_in_a_worker_thread() -> Iterator[None]:
    """While the block runs, hand tasks to a Celery worker thread of this process.

    Without a broker, tasks run eagerly: in the request that enqueued them, once it commits.
    A big import or email upload would then hold its request until done, and its progress
    page (polling, cancel) would never be seen. Here they go through Celery's in-memory
    transport (the broker URL without Redis) to a worker thread consuming every queue, as a
    worker process would take them; eager mode is back afterwards. With a real broker
    (``REDIS_URL``) nothing changes: its workers take the tasks.

    The worker is Celery's embedded one (``celery.contrib.testing.worker``, a solo pool in a
    thread); ``shutdown_timeout`` is how long stopping waits for a task still running.
    """
    conf = celery_app.conf
    if not conf.task_always_eager:
        yield
        return
    conf.task_always_eager = False
    try:
        with start_worker(
            celery_app,
            pool="solo",
            queues=[queue.name for queue in conf.task_queues],
            perform_ping_check=False,  # the ping task needs a result backend; there is none
            loglevel="WARNING",
            shutdown_timeout=30,
        ):
            yield
    finally:
        conf.task_always_eager = True
