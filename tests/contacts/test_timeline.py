"""The timeline: safe rendering, day grouping in the user's time zone, keyset pages, kind filter."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from contacts.models import Activity
from contacts.selectors import TIMELINE_PAGE_SIZE, TimelineCursor, timeline_page
from contacts.services.timeline import activity_record
from tests.factories import ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(team: Any, alice: Any) -> Any:
    return ContactFactory(team=team, owner=alice)


def _page(client: Any, contact: Any, **params: Any) -> str:
    response = client.get(reverse("contacts:detail", kwargs={"pk": contact.pk}), params)
    assert response.status_code == 200
    return response.content.decode()


def _fragment(client: Any, contact: Any, **params: Any) -> str:
    response = client.get(reverse("contacts:timeline", kwargs={"pk": contact.pk}), params, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def _entry_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="activity-(\d+)"', html)]


# --- Hostile input ------------------------------------------------------------------------


def test_plain_text_bodies_are_escaped_with_line_breaks(contact: Any, alice: Any, client_for: Any):
    ActivityFactory(contact=contact, subject="<b>hi</b>", body="<script>alert('x')</script>\nsecond line", body_html="")

    html = _page(client_for(alice), contact)

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;<br>second line" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html


def test_html_bodies_lose_scripts_handlers_javascript_links_and_remote_images(
    contact: Any, alice: Any, client_for: Any
):
    hostile = (
        '<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
        '<a href="javascript:alert(2)">click</a> <a href="https://example.com/x">site</a>'
        '<img src="https://tracker.example/pixel.gif" onerror="alert(3)">'
        '<svg onload="alert(4)"></svg><iframe src="https://evil.example"></iframe>'
    )
    # Written straight to the table (as bulk loads do), bypassing activity_record's sanitizer.
    ActivityFactory(contact=contact, kind=Activity.Kind.EMAIL, body="Hello there", body_html=hostile)
    # And through activity_record.
    activity_record(contact=contact, kind=Activity.Kind.EMAIL, body="Hello", body_html=hostile)

    html = _page(client_for(alice), contact)
    timeline = html[html.index('id="timeline"') :]

    for bad in ("<script", "onclick", "onerror", "onload", "javascript:", "<img", "tracker.example", "<iframe", "<svg"):
        assert bad not in timeline, bad
    assert "<b>there</b>" in timeline
    assert re.search(r'<a href="https://example.com/x" rel="[^"]*noopener[^"]*nofollow[^"]*">site</a>', timeline)


def test_huge_bodies_show_a_preview_and_the_rest_behind_show_more(contact: Any, alice: Any, client_for: Any):
    ActivityFactory(contact=contact, body="word " * 2_000 + "THE-END")

    html = _page(client_for(alice), contact)

    assert "<details><summary>Show more</summary>" in html
    assert "THE-END" in html


def test_enormous_bodies_are_cut(contact: Any, alice: Any, client_for: Any):
    ActivityFactory(contact=contact, body="x" * 200_000 + "TAIL")

    html = _page(client_for(alice), contact)

    assert "TAIL" not in html
    assert "200004 characters in all" in html
    assert len(html) < 120_000


# --- Who, when, direction, icon --------------------------------------------------------------


def test_entry_shows_actor_direction_icon_and_exact_time_in_the_users_time_zone(
    contact: Any, alice: Any, client_for: Any
):
    alice.time_zone = "America/New_York"
    alice.save()
    ActivityFactory(
        contact=contact,
        actor=alice,
        kind=Activity.Kind.EMAIL,
        direction="in",
        occurred_at=datetime(2025, 3, 3, 15, 30, tzinfo=UTC),
    )

    html = _page(client_for(alice), contact)

    assert "Alice Archer" in html
    assert "← in" in html
    assert 'role="img" aria-label="Email"' in html
    assert 'datetime="2025-03-03T10:30:00-05:00"' in html
    assert 'title="Monday 3 March 2025, 10:30 EST (America/New_York)"' in html


# --- Grouping by day ------------------------------------------------------------------------


@time_machine.travel(datetime(2025, 6, 10, 12, 0, tzinfo=UTC), tick=False)
def test_entries_are_grouped_by_day_in_the_users_time_zone(contact: Any, alice: Any, client_for: Any):
    # 02:00 UTC on 10 June is still 9 June in Los Angeles.
    ActivityFactory(contact=contact, occurred_at=datetime(2025, 6, 10, 11, 0, tzinfo=UTC), subject="late morning")
    ActivityFactory(contact=contact, occurred_at=datetime(2025, 6, 10, 2, 0, tzinfo=UTC), subject="small hours")
    ActivityFactory(contact=contact, occurred_at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC), subject="earlier")

    in_utc = _page(client_for(alice), contact)
    alice.time_zone = "America/Los_Angeles"
    alice.save()
    in_la = _page(client_for(alice), contact)

    def headings(html: str) -> list[str]:
        return re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">([^<]+)</time>', html)

    assert headings(in_utc) == [("2025-06-10", "Today"), ("2025-06-01", "Sunday 1 June")]
    assert headings(in_la) == [("2025-06-10", "Today"), ("2025-06-09", "Yesterday"), ("2025-06-01", "Sunday 1 June")]


def test_an_unknown_time_zone_falls_back_to_utc(contact: Any, alice: Any, client_for: Any):
    alice.time_zone = "Mars/Olympus_Mons"
    alice.save()
    ActivityFactory(contact=contact, occurred_at=datetime(2024, 1, 2, 3, 4, tzinfo=UTC))
    assert 'datetime="2024-01-02T03:04:00+00:00"' in _page(client_for(alice), contact)


def test_a_page_continuing_the_same_day_does_not_repeat_its_heading(contact: Any, alice: Any, client_for: Any):
    start = datetime(2024, 5, 5, 8, 0, tzinfo=UTC)
    for minute in range(TIMELINE_PAGE_SIZE + 3):
        ActivityFactory(contact=contact, occurred_at=start + timedelta(minutes=minute))
    client = client_for(alice)
    first = _page(client, contact)
    cursor = re.search(r"before=([0-9_]+)", first)
    assert cursor

    second = _fragment(client, contact, before=cursor.group(1))

    assert first.count("timeline-day-heading") == 1
    assert "timeline-day-heading" not in second
    assert len(_entry_ids(second)) == 3


# --- Keyset pages -------------------------------------------------------------------------


def test_cursor_round_trips_exactly():
    cursor = TimelineCursor(datetime(2023, 4, 5, 6, 7, 8, 901234, tzinfo=UTC), 42)
    assert TimelineCursor.decode(cursor.encode()) == cursor
    assert TimelineCursor.decode("nonsense") is None
    assert TimelineCursor.decode("12_") is None
    assert TimelineCursor.decode(None) is None


def test_load_more_walks_every_entry_once_even_when_rows_arrive_between_pages(
    contact: Any, alice: Any, client_for: Any
):
    base = datetime(2024, 1, 1, tzinfo=UTC)
    # Many share a timestamp, so the id tie-break matters.
    originals = [
        ActivityFactory(contact=contact, occurred_at=base + timedelta(hours=index // 4)).pk for index in range(60)
    ]
    client = client_for(alice)
    html = _fragment(client, contact)
    seen = _entry_ids(html)
    while match := re.search(r'hx-get="[^"]*before=([0-9_]+)"', html):
        # New rows, both newer than everything and in the middle of the already-paged range.
        ActivityFactory(contact=contact, occurred_at=base + timedelta(days=30))
        ActivityFactory(contact=contact, occurred_at=base + timedelta(hours=14))
        html = _fragment(client, contact, before=match.group(1))
        seen += _entry_ids(html)

    assert len(seen) == len(set(seen)), "an entry was shown twice"
    assert set(originals) <= set(seen), "an entry was skipped"
    occurred = dict(Activity.objects.filter(pk__in=seen).values_list("pk", "occurred_at"))
    keys = [(occurred[pk], pk) for pk in seen]
    assert keys == sorted(keys, reverse=True), "not newest first"


def test_page_size_and_next_cursor(contact: Any, alice: Any):
    ActivityFactory.create_batch(TIMELINE_PAGE_SIZE, contact=contact)
    page = timeline_page(user=alice, contact=contact)
    assert len(page.activities) == TIMELINE_PAGE_SIZE
    assert page.next_cursor is None
    ActivityFactory(contact=contact, occurred_at=datetime(2000, 1, 1, tzinfo=UTC))
    page = timeline_page(user=alice, contact=contact)
    assert page.next_cursor == TimelineCursor.of(page.activities[-1])
    assert len(timeline_page(user=alice, contact=contact, before=page.next_cursor).activities) == 1


def test_the_no_javascript_load_more_link_opens_the_page_at_the_cursor(contact: Any, alice: Any, client_for: Any):
    ActivityFactory.create_batch(TIMELINE_PAGE_SIZE + 2, contact=contact)
    client = client_for(alice)
    first = _page(client, contact)
    link = re.search(r'<a class="button"\s+href="([^"]+)#timeline"', first)
    assert link

    second = client.get(link.group(1).replace("&amp;", "&")).content.decode()

    assert len(_entry_ids(second)) == 2
    assert not set(_entry_ids(first)) & set(_entry_ids(second))


# --- Filter by kind -------------------------------------------------------------------------


def test_filter_by_kind_keeps_only_those_kinds_across_pages(contact: Any, alice: Any, client_for: Any):
    calls = {ActivityFactory(contact=contact, kind=Activity.Kind.CALL).pk for _ in range(TIMELINE_PAGE_SIZE + 5)}
    emails = {ActivityFactory(contact=contact, kind=Activity.Kind.EMAIL).pk for _ in range(3)}
    ActivityFactory.create_batch(5, contact=contact, kind=Activity.Kind.NOTE)
    client = client_for(alice)

    html = _fragment(client, contact, kind=["call", "email"])
    seen = _entry_ids(html)
    more = re.search(r'hx-get="[^"]*\?([^"]*before=[0-9_]+)"', html)
    assert more and "kind=call&amp;kind=email" in more.group(1)
    seen += _entry_ids(_fragment(client, contact, kind=["call", "email"], before=more.group(1).rsplit("=", 1)[1]))

    assert set(seen) == calls | emails
    assert 'value="call" checked' in html


def test_unknown_kind_filters_are_ignored(contact: Any, alice: Any, client_for: Any):
    ActivityFactory.create_batch(2, contact=contact)
    assert len(_entry_ids(_fragment(client_for(alice), contact, kind="bogus"))) == 2


@pytest.mark.parametrize("size", [2, 40])
def test_timeline_fragment_runs_a_constant_number_of_queries(
    size: int, contact: Any, alice: Any, bob: Any, client_for: Any, django_assert_max_num_queries: Any
):
    for index in range(size):
        ActivityFactory(contact=contact, actor=alice if index % 2 else bob)
    client = client_for(alice)
    cursor = TimelineCursor(datetime(2100, 1, 1, tzinfo=UTC), 0).encode()
    # 1 session, 2 user, 3 roles, 4-5 visible teams, 6 contact, 7 timeline page with actors.
    with django_assert_max_num_queries(7):
        html = _fragment(client, contact, before=cursor)
    assert len(_entry_ids(html)) == min(size, TIMELINE_PAGE_SIZE)
