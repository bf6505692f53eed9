"""Beat's refresh/retention sweep and the demo profiles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from consent.models import ConsentEvent, Purpose
from consent.services import consent_record
from contacts.models import Contact
from enrichment.demo import load_demo_profiles
from enrichment.models import SocialProfile
from enrichment.tasks import refresh_stale_profiles
from socialcrm.models import OutboxMessage, Team, User
from socialcrm.registry import DemoContext
from tests.factories import ContactFactory


def profile(contact: Contact, days_old: int, **fields: Any) -> SocialProfile:
    return SocialProfile.objects.create(
        contact=contact,
        network="github",
        provider="github",
        url=f"https://github.com/p{SocialProfile.objects.count()}",
        fetched_at=timezone.now() - timedelta(days=days_old),
        **fields,
    )


def test_the_sweep_deletes_expired_profiles_and_requeues_stale_allowed_contacts_once(
    team: Team, alice: User, settings: Any
) -> None:
    settings.ENRICHMENT_REFRESH_DAYS = 30
    settings.ENRICHMENT_PROFILE_MAX_AGE_DAYS = 90
    stale, objected, fresh = (ContactFactory(team=team) for _ in range(3))
    expired = profile(stale, 120)
    demo = profile(stale, 120, is_demo=True)
    profile(stale, 40)
    profile(objected, 40)
    profile(fresh, 1)
    consent_record(
        actor=alice,
        contact=objected,
        purpose=Purpose.objects.get(code="enrichment"),
        action=ConsentEvent.Action.OBJECT,
        source=ConsentEvent.Source.EMAIL,
        evidence="No lookups.",
    )

    assert refresh_stale_profiles() == {"removed": 1, "queued": 1}
    assert refresh_stale_profiles() == {"removed": 0, "queued": 0}  # claimed

    assert not SocialProfile.objects.filter(pk=expired.pk).exists()
    assert SocialProfile.objects.filter(pk=demo.pk).exists()
    assert [m.args for m in OutboxMessage.objects.filter(task_name="enrichment.tasks.enrich_contact")] == [
        [stale.pk, True]
    ]


def test_demo_profiles_are_marked_some_verified_some_suggested_and_loaded_once(
    team: Team, alice: User, mona: User, dpo: User, admin: User
) -> None:
    for _ in range(4):
        ContactFactory(team=team)
    context = DemoContext(team=team, sales=alice, manager=mona, dpo=dpo, admin=admin, say=lambda message: None)

    load_demo_profiles(context)
    load_demo_profiles(context)

    profiles = SocialProfile.objects.filter(contact__team=team)
    assert profiles.count() == 2 + 3 + 4 + 2
    assert set(profiles.values_list("is_demo", flat=True)) == {True}
    assert set(profiles.values_list("verified", flat=True)) == {True, False}
