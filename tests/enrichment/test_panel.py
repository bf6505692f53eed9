"""The "Public profiles" panel on the contact page and its actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from consent.models import PrivacyPreference
from contacts.models import Contact
from enrichment.models import ProviderCheck, SocialProfile
from socialcrm.models import OutboxMessage, Team, User
from tests.factories import ContactFactory

ClientFor = Callable[[User | None], Client]
# At the column's limit (a megabyte-long name is capped on the way in: test_profiles.py).
HOSTILE_NAME = ('<script>alert("name")</script>' + "N" * 200)[:200]


@pytest.fixture
def contact(team: Team) -> Contact:
    return ContactFactory(team=team, first_name="Ada", last_name="Example", title="")


def hostile_profile(contact: Contact) -> SocialProfile:
    # Written straight to the table, as if a provider had been fooled: the panel must still be inert.
    return SocialProfile.objects.create(
        contact=contact,
        network="github",
        provider="github",
        url="javascript:alert(1)//github.com/ada",
        display_name=HOSTILE_NAME,
        bio='<script>alert("bio")</script><img src=x onerror=alert(2)>',
        title="Engineer",
        links=["javascript:alert(3)", "https://ada.example/", "data:text/html,<b>x</b>"],
        source_url="https://api.github.com/users/ada",
    )


def test_hostile_profile_data_is_shown_as_text_and_never_linked(
    contact: Contact, client_for: ClientFor, alice: User
) -> None:
    hostile_profile(contact)

    html = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": contact.pk})).content.decode()

    assert '<script>alert("bio")' not in html
    assert "&lt;script&gt;alert(&#34;bio&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert 'href="javascript' not in html
    assert 'href="data:' not in html
    assert 'href="https://ada.example/"' in html
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;NNN" in html


def test_the_panel_shows_values_with_source_and_age_verified_badge_and_conflicts(
    contact: Contact, client_for: ClientFor, alice: User
) -> None:
    SocialProfile.objects.create(
        contact=contact,
        network="github",
        provider="github",
        url="https://github.com/ada",
        display_name="Ada Example",
        title="Staff Engineer",
        verified=True,
        source_url="https://api.github.com/users/ada",
        conflicts={
            "display_name": [
                {
                    "value": "Ada E.",
                    "provider": "gravatar",
                    "source_url": "https://api.gravatar.com/v3/profiles/x",
                    "fetched_at": "2026-01-01T00:00:00+00:00",
                }
            ]
        },
    )

    html = client_for(alice).get(reverse("enrichment:panel", kwargs={"pk": contact.pk})).content.decode()

    assert 'title="From GitHub (https://api.github.com/users/ada), 0\xa0minutes ago"' in html
    assert ">Verified</span>" in html
    assert "or: Ada E." in html
    assert 'title="From Gravatar (https://api.gravatar.com/v3/profiles/x)' in html
    assert "<img" not in html  # remote avatars are never loaded: initials instead
    assert '<span class="enrichment-avatar" aria-hidden="true">AE</span>' in html
    # Every action form (accept or reject the profile, or one value; refresh) carries the CSRF token.
    forms = html.split('<form method="post"')[1:]
    assert len(forms) >= 4
    assert all('name="csrfmiddlewaretoken"' in form.split("</form>", 1)[0] for form in forms)
    assert all(f'hx-target="#enrichment-panel-{contact.pk}"' in form.split(">", 1)[0] for form in forms)


def test_failing_providers_show_as_will_retry_not_as_an_error(
    contact: Contact, client_for: ClientFor, alice: User
) -> None:
    ProviderCheck.objects.create(contact=contact, provider="github", status=ProviderCheck.Status.FAILED)

    response = client_for(alice).get(reverse("contacts:detail", kwargs={"pk": contact.pk}))

    assert response.status_code == 200
    assert "Couldn&#39;t reach GitHub, will retry." in response.content.decode()


def test_withheld_profiles_are_not_shown(contact: Contact, client_for: ClientFor, alice: User) -> None:
    SocialProfile.objects.create(
        contact=contact, network="github", provider="github", url="https://github.com/ada", display_name="Ada Example"
    )
    PrivacyPreference.objects.create(contact=contact, withheld_attributes=["social_profiles"])

    html = client_for(alice).get(reverse("enrichment:panel", kwargs={"pk": contact.pk})).content.decode()

    assert "Ada Example" not in html
    assert "withholds their public profiles" in html


def test_refresh_now_queues_a_lookup_and_shows_it_pending(contact: Contact, client_for: ClientFor, alice: User) -> None:
    response = client_for(alice).post(reverse("enrichment:refresh", kwargs={"pk": contact.pk}), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "Looking up public profiles" in response.content.decode()
    message = OutboxMessage.objects.get(task_name="enrichment.tasks.enrich_contact")
    assert message.args == [contact.pk, True]


def test_accept_and_reject_through_the_panel(contact: Contact, client_for: ClientFor, alice: User) -> None:
    profile = SocialProfile.objects.create(
        contact=contact, network="github", provider="github", url="https://github.com/ada", title="Staff Engineer"
    )
    client = client_for(alice)

    response = client.post(reverse("enrichment:profile_accept", kwargs={"pk": profile.pk}), {"field": "title"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "Staff Engineer"

    response = client.post(reverse("enrichment:profile_reject", kwargs={"pk": profile.pk}), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    profile.refresh_from_db()
    assert (profile.status, profile.title) == (SocialProfile.Status.REJECTED, "")
    assert "https://github.com/ada" not in response.content.decode()

    bad = client.post(reverse("enrichment:profile_accept", kwargs={"pk": profile.pk}), {"field": "password"})
    assert bad.status_code == 400


@pytest.mark.parametrize("name", ["enrichment:profile_accept", "enrichment:profile_reject"])
def test_charlie_gets_404_for_alice_s_contact_s_profiles(
    contact: Contact, client_for: ClientFor, charlie: User, name: str
) -> None:
    profile = hostile_profile(contact)
    response = client_for(charlie).post(reverse(name, kwargs={"pk": profile.pk}))
    assert response.status_code == 404
    profile.refresh_from_db()
    assert profile.status == SocialProfile.Status.SUGGESTED


@pytest.mark.parametrize(("name", "method"), [("enrichment:panel", "get"), ("enrichment:refresh", "post")])
def test_charlie_gets_404_for_alice_s_contact_s_panel(
    contact: Contact, client_for: ClientFor, charlie: User, name: str, method: str
) -> None:
    response = getattr(client_for(charlie), method)(reverse(name, kwargs={"pk": contact.pk}))
    assert response.status_code == 404
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("profiles", [1, 12])
def test_the_panel_s_queries_do_not_grow_with_its_profiles(
    contact: Contact, client_for: ClientFor, alice: User, profiles: int, django_assert_max_num_queries: Any
) -> None:
    for n in range(profiles):
        SocialProfile.objects.create(
            contact=contact, network="github", provider="github", url=f"https://github.com/ada{n}", title="Engineer"
        )
    client = client_for(alice)
    # session + user, the user's roles, contact_get, privacy preferences, profiles, open breakers, failed checks
    with django_assert_max_num_queries(9):
        response = client.get(reverse("enrichment:panel", kwargs={"pk": contact.pk}))
    assert response.content.decode().count("<article") == profiles
