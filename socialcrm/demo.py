"""Demo accounts and team for ``manage.py demo``; apps add their data through the registry."""

from __future__ import annotations

from collections.abc import Callable

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.db import transaction

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
