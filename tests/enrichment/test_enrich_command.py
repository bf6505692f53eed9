"""``manage.py enrich --html FILE --url URL`` prints what the website provider reads, offline."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.enrichment.conftest import FIXTURES


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
