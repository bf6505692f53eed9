"""The real contact page, with every app's panel registered: ten queries at most on PostgreSQL
(eight in a test, without the audit's BEGIN and COMMIT), whatever the data size."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import PrivacyPreference
from contacts import registry
from contacts.email.selectors import recent_threads
from contacts.models import Activity, Reminder
from enrichment.models import ProviderCheck, ProviderState, SocialProfile
from tests.factories import ActivityFactory, ContactFactory, ContactMethodFactory, ReminderFactory, TagFactory

pytestmark = pytest.mark.django_db


def _url(contact: Any) -> str:
    return reverse("contacts:detail", kwargs={"pk": contact.pk})


def _populate(contact: Any, alice: Any, bob: Any, size: int) -> None:
    """``size`` rows of everything a panel shows: methods, tags, timeline, emails, reminders
    (due, later, done), profiles and failed provider checks (one provider's breaker open)."""
    now = timezone.now()
    ProviderState.objects.create(provider="github", failures=5, opened_until=now + timedelta(minutes=30))
    ProviderCheck.objects.create(contact=contact, provider="github", status=ProviderCheck.Status.FAILED)
    ProviderCheck.objects.create(contact=contact, provider="gravatar", status=ProviderCheck.Status.FAILED)
    for index in range(size):
        ContactMethodFactory(contact=contact, value=f"p{index}-{contact.pk}@client.example")
        contact.tags.add(TagFactory(team=contact.team, name=f"t{index}"))
        ActivityFactory(contact=contact, actor=alice if index % 2 else bob, kind=Activity.Kind.CALL)
        ActivityFactory(contact=contact, kind=Activity.Kind.EMAIL, thread_key=f"thread-{index}", subject=f"Re {index}")
        ReminderFactory(contact=contact, assignee=alice, due_at=now - timedelta(hours=index + 1), note=f"Due {index}")
        ReminderFactory(contact=contact, assignee=bob, note=f"Later {index}")
        ReminderFactory(contact=contact, assignee=alice, status=Reminder.Status.DONE, completed_at=now)
        SocialProfile.objects.create(
            contact=contact,
            network="github",
            provider="github",
            url=f"https://github.com/ada{index}",
            display_name=f"Ada {index}",
            links=[f"https://ada{index}.example/"],
            conflicts={"title": [{"value": "CTO", "provider": "gravatar", "fetched_at": now.isoformat()}]},
            title="Engineer",
            verified=index == 0,
        )


@pytest.mark.parametrize("size", [1, 20])
@pytest.mark.parametrize("who", ["alice", "mona"])
def test_the_contact_page_with_every_panel_runs_at_most_eight_queries(
    who: str,
    size: int,
    request: Any,
    alice: Any,
    bob: Any,
    team: Any,
    client_for: Any,
    django_assert_max_num_queries: Any,
) -> None:
    # Every app's panel stays registered (no clearing of the registry).
    assert {"reminders", "email", "consent", "privacy_preferences", "social_profiles"} <= set(registry._panels)
    contact = ContactFactory(team=team, owner=alice, first_name="Ada", last_name="Example")
    _populate(contact, alice, bob, size)
    client = client_for(request.getfixturevalue(who))
    client.get(_url(contact))  # the session is then read from the cache (cached_db), as on any later page
    # 1 the user, 2 their roles (groups), 3 their teams (with which they manage: the reminders
    # panel's checks reuse it), 4 the contact with organization/owner/team, its methods and
    # tags, the reminders panel's reminders, the email panel's
    # newest messages, the enrichment panel's profiles and failed checks (with open
    # breakers) and the bell's due count, all as subqueries, 5-6 audit (the chain's head,
    # with the advisory lock on PostgreSQL, and the insert), 7 consent preferences and states
    # (the header's privacy rules and both consent panels), 8 the timeline page with actors.
    # On PostgreSQL, outside the test's transaction, the audit's BEGIN and COMMIT make it 10.
    with django_assert_max_num_queries(8):
        response = client.get(_url(contact))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="timeline-entry ') == min(2 * size, 25)
    assert html.count('<article class="enrichment-profile"') == size
    assert "Couldn&#39;t reach GitHub; paused until" in html
    assert "Couldn&#39;t reach Gravatar, will retry." in html
    assert "or: CTO" in html
    assert f"Due {size - 1}" in html
    assert f"Re {size - 1}" in html
    if who == "alice":
        assert f'<span class="bell-count">{size}</span>' in html
    else:
        # The bell counts her own reminders (none).
        assert '<span class="bell-count">0</span>' in html
        assert f"Later {size - 1}" in html  # bob's, seen by his manager


def _without_csrf_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_the_prefetched_enrichment_panel_matches_the_panel_rendered_on_its_own(
    alice: Any, bob: Any, team: Any, client_for: Any
) -> None:
    contact = ContactFactory(team=team, owner=alice, first_name="Ada", last_name="Example")
    _populate(contact, alice, bob, 3)
    SocialProfile.objects.create(
        contact=contact, network="bluesky", provider="bluesky", url="https://bsky.app/x", status="rejected"
    )
    client = client_for(alice)
    page = _without_csrf_tokens(client.get(_url(contact)).content.decode())
    alone = _without_csrf_tokens(client.get(reverse("enrichment:panel", kwargs={"pk": contact.pk})).content.decode())
    assert "bsky.app" not in alone
    # Same profiles in the same order (verified first), same problems, same actions.
    assert alone.strip() in page


@pytest.mark.parametrize("who", ["alice", "mona"])
def test_the_prefetched_reminders_and_email_panels_match_the_panels_rendered_on_their_own(
    who: str, request: Any, alice: Any, bob: Any, team: Any, client_for: Any
) -> None:
    contact = ContactFactory(team=team, owner=alice)
    _populate(contact, alice, bob, 3)
    client = client_for(request.getfixturevalue(who))
    page = _without_csrf_tokens(client.get(_url(contact)).content.decode())
    alone = client.get(reverse("contacts:contact_reminders", kwargs={"pk": contact.pk})).content.decode()
    assert _without_csrf_tokens(alone).strip() in page
    threads = recent_threads(contact=contact)  # the panel on its own queries them
    assert [thread.subject for thread in threads] == ["Re 2", "Re 1", "Re 0"]
    links = [
        f'<a href="{reverse("contacts:thread", args=[thread.activity_id])}">{thread.subject}</a>' for thread in threads
    ]
    assert all(link in page for link in links)
    assert page.index(links[0]) < page.index(links[1]) < page.index(links[2])


def test_withheld_profiles_stay_hidden_on_the_contact_page(alice: Any, bob: Any, team: Any, client_for: Any) -> None:
    contact = ContactFactory(team=team, owner=alice)
    _populate(contact, alice, bob, 2)
    PrivacyPreference.objects.create(contact=contact, withheld_attributes=["social_profiles"])
    html = client_for(alice).get(_url(contact)).content.decode()
    assert "withholds their public profiles" in html
    assert "github.com/ada" not in html
