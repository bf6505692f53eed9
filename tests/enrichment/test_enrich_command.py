"""``manage.py enrich --html FILE --url URL`` prints what the website provider reads, offline."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from consent.models import ConsentEvent, PrivacyPreference, Purpose
from consent.services import consent_record
from contacts.models import ContactMethod
from socialcrm.models import Team, User
from tests.enrichment.conftest import FIXTURES
from tests.factories import ContactFactory, ContactMethodFactory


def run(*args: str) -> dict[str, object]:
    out = io.StringIO()
    call_command("enrich", *args, stdout=out)
    return json.loads(out.getvalue())


def test_prints_the_personal_site_sample_as_json_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the command tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    found = run("--html", str(FIXTURES / "personal_site.html"), "--url", "https://ada.example/")
    assert found == {
        "name": "Ada Example",
        "url": "https://ada.example/",
        "photo": "https://ada.example/img/ada.jpg",
        "note": "I build data pipelines and maps. Staff Engineer at Example Ltd.",
        "org": "Example Ltd",
        "job_title": "Staff Engineer",
        "locality": "Lisbon",
        "country": "Portugal",
        "rel_me": [
            "https://github.com/adaexample",
            "https://social.example/@ada",
            "https://bsky.app/profile/ada.example",
        ],
        "feeds": ["https://ada.example/feed.xml"],
    }


def test_the_url_decides_relative_links_and_whose_h_card_it_is() -> None:
    found = run("--html", str(FIXTURES / "personal_site.html"), "--url", "https://mirror.example/ada/")
    assert found["feeds"] == ["https://mirror.example/feed.xml"]
    # The h-card's url is ada.example, not this page: it is not the representative h-card,
    # so the note comes from OpenGraph instead.
    assert found["note"] == "Data engineer in Lisbon."


def test_refuses_a_url_that_is_not_http(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="absolute http"):
        call_command("enrich", "--html", str(FIXTURES / "personal_site.html"), "--url", "file:///x")


def test_refuses_a_page_larger_than_the_provider_would_read(tmp_path: Path, settings: pytest.FixtureRequest) -> None:
    settings.ENRICHMENT_MAX_BODY_BYTES = 100  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="larger than"):
        call_command("enrich", "--html", str(FIXTURES / "personal_site.html"), "--url", "https://ada.example/")


def test_reports_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("enrich", "--html", str(tmp_path / "missing.html"), "--url", "https://ada.example/")


@pytest.mark.django_db
def test_dry_run_shows_what_would_be_looked_up_and_the_gate_s_answer(
    monkeypatch: pytest.MonkeyPatch, team: Team, alice: User
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the command tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    contact = ContactFactory(team=team, email="ada@ada.example")
    ContactMethodFactory(contact=contact, kind=ContactMethod.Kind.HANDLE, value="github:adaexample")
    PrivacyPreference.objects.create(contact=contact, unlinked_networks=["gravatar"])

    planned = run(str(contact.pk), "--dry-run")

    assert planned["gate"] == {"allowed": True, "reason": "Legitimate interests; the person has not objected."}
    assert planned["subject"] == {"emails": ["ada@ada.example"], "websites": [], "handles": ["github:adaexample"]}
    assert planned["would_ask"] == ["github", "fediverse", "bluesky", "website", "company"]
    assert planned["skipped"] == {"gravatar": "the person asked for this network not to be linked"}

    consent_record(
        actor=alice,
        contact=contact,
        purpose=Purpose.objects.get(code="enrichment"),
        action=ConsentEvent.Action.OBJECT,
        source=ConsentEvent.Source.EMAIL,
        evidence="No lookups, please.",
    )
    planned = run(str(contact.pk), "--dry-run")
    assert (planned["gate"]["allowed"], planned["would_ask"]) == (False, [])


def test_dry_run_of_a_suppressed_contact_would_ask_nobody(team: Team) -> None:
    from consent.models import Suppression
    from consent.suppression import identifier_digest

    contact = ContactFactory(team=team, email="gone@ada.example")
    ContactMethodFactory(contact=contact, kind=ContactMethod.Kind.HANDLE, value="github:gone")
    Suppression.objects.create(digest=identifier_digest("gone@ada.example"))

    planned = run(str(contact.pk), "--dry-run")

    assert (planned["suppressed"], planned["would_ask"]) == (True, [])
    assert planned["stopped_by"] == "suppression"


@pytest.mark.django_db
def test_a_contact_without_dry_run_is_refused(team: Team) -> None:
    with pytest.raises(CommandError, match="--dry-run"):
        call_command("enrich", str(ContactFactory(team=team).pk))
