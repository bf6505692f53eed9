"""Social listening: feeds of accepted profiles onto the timeline, keyword alerts, gated sentiment."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import respx
import time_machine

from consent.models import ConsentEvent, Purpose
from consent.services import consent_record
from contacts.models import Activity, Contact, Reminder
from enrichment.listening import listen
from enrichment.models import ListeningKeyword, SocialProfile
from enrichment.tasks import listen_sweep
from socialcrm.models import OutboxMessage, Team, User
from tests.enrichment.conftest import sample
from tests.factories import ContactFactory

FEED = "https://social.example/@ada.rss"
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ada(team: Team, alice: User) -> Contact:
    contact = ContactFactory(team=team, owner=alice)
    SocialProfile.objects.create(
        contact=contact,
        network="fediverse",
        provider="fediverse",
        url="https://social.example/@ada",
        feeds=[FEED],
        status=SocialProfile.Status.ACCEPTED,
    )
    return contact


@pytest.fixture
def feed() -> Iterator[respx.Route]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock.get(FEED).respond(
            200, text=sample("mastodon_user.rss"), headers={"Content-Type": "application/rss+xml"}
        )


def _consent(contact: Contact, actor: User, code: str, action: str) -> None:
    consent_record(
        actor=actor,
        contact=contact,
        purpose=Purpose.objects.get(code=code),
        action=action,
        source=ConsentEvent.Source.PORTAL,
        evidence="Privacy portal.",
    )


def test_new_public_posts_become_timeline_entries_once(ada: Contact, feed: respx.Route) -> None:
    assert listen(ada) == 2
    assert listen(ada) == 0  # the same guids: nothing twice

    posts = Activity.objects.filter(contact=ada, kind=Activity.Kind.SOCIAL_POST).order_by("occurred_at")
    assert [p.body for p in posts] == [
        "Really frustrated with our vendor's support this week. Three days without an answer.",
        "We are evaluating new CRM tools for our data team next quarter. Any recommendations?",
    ]
    assert posts[1].payload["url"] == "https://social.example/@ada/113501234567890"
    assert feed.call_count == 2


def test_a_team_keyword_in_a_post_reminds_the_owner(ada: Contact, feed: respx.Route, alice: User, team: Team) -> None:
    ListeningKeyword.objects.create(team=team, keyword="evaluating")

    listen(ada)

    reminder = Reminder.objects.get(contact=ada)
    assert (reminder.assignee, reminder.note) == (alice, "Public post mentions 'evaluating'.")


def test_sentiment_is_labelled_only_where_the_person_allows_it(ada: Contact, feed: respx.Route, alice: User) -> None:
    listen(ada)
    assert all("sentiment" not in p.payload for p in Activity.objects.filter(kind=Activity.Kind.SOCIAL_POST))

    Activity.objects.filter(kind=Activity.Kind.SOCIAL_POST).delete()
    _consent(ada, alice, "sentiment_analysis", ConsentEvent.Action.GRANT)
    listen(ada)

    labels = {p.body[:20]: p.payload["sentiment"] for p in Activity.objects.filter(kind=Activity.Kind.SOCIAL_POST)}
    assert labels == {"Really frustrated wi": "negative", "We are evaluating ne": "neutral"}


def test_no_listening_and_no_request_where_the_person_objected(ada: Contact, feed: respx.Route, alice: User) -> None:
    _consent(ada, alice, "social_listening", ConsentEvent.Action.OBJECT)

    assert listen(ada) == 0
    assert feed.call_count == 0


def test_only_accepted_profiles_are_listened_to(ada: Contact, feed: respx.Route) -> None:
    SocialProfile.objects.filter(contact=ada).update(status=SocialProfile.Status.SUGGESTED)
    assert listen(ada) == 0
    assert feed.call_count == 0


def test_the_sweep_queues_each_due_contact_once(ada: Contact) -> None:
    assert listen_sweep() == 1
    assert listen_sweep() == 0  # claimed: listened_at was set
    assert OutboxMessage.objects.filter(task_name="enrichment.tasks.listen_to_contact").count() == 1


def test_posts_mentioning_special_category_data_are_not_stored(ada: Contact, team: Team) -> None:
    ListeningKeyword.objects.create(team=team, keyword="evaluating")
    item = (
        "<item><guid>https://social.example/@ada/{n}</guid><pubDate>Fri, 20 Nov 2026 16:05:00 +0000</pubDate>"
        "<title>{title}</title><description>{text}</description></item>"
    )
    items = [
        item.format(n=1, title="", text="Evaluating tools before the trade union meeting tonight."),
        item.format(n=2, title="Church choir", text="Evaluating a new hymn book."),
        item.format(n=3, title="", text="Evaluating new CRM tools."),
    ]
    rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Ada</title>{"".join(items)}</channel></rss>'
    with respx.mock(assert_all_mocked=True) as mock:
        mock.get(FEED).respond(200, text=rss, headers={"Content-Type": "application/rss+xml"})
        assert listen(ada) == 1

    posts = Activity.objects.filter(contact=ada, kind=Activity.Kind.SOCIAL_POST)
    assert [p.body for p in posts] == ["Evaluating new CRM tools."]
    assert Reminder.objects.filter(contact=ada).count() == 1  # the dropped posts alert nobody either
