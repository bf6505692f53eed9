"""The Jinja2 environment of the list rows: escaping, URLs and dates as the template language writes them."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from socialcrm.jinja import environment, id_url


def test_autoescape_stays_on_whatever_the_options_say() -> None:
    env = environment(autoescape=False)
    assert env.from_string("{{ name }}").render(name="<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"


def test_id_url_fills_in_the_id_of_the_reversed_url() -> None:
    detail = id_url("contacts:detail")
    assert detail(42) == reverse("contacts:detail", kwargs={"pk": 42})
    assert detail(7) == reverse("contacts:detail", kwargs={"pk": 7})


def test_dates_match_the_template_language_in_the_current_time_zone() -> None:
    env = environment()
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Tokyo
    django = Template("{{ at|date:'c' }}|{{ at|date:'j M Y' }}|{{ at }}")
    jinja = env.from_string("{{ at|iso }}|{{ at|day }}|{{ at|localized }}")
    with timezone.override("Asia/Tokyo"):
        expected = django.render(Context({"at": moment}))
        assert jinja.render(at=moment) == expected
    assert "2 Mar 2026" in expected
