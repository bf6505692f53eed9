"""The Jinja2 environment of the list rows: escaping, URLs and dates as the template language writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from socialcrm.jinja import environment, id_url, natural_time


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
    django = Template("{{ at|date:'c' }}|{{ at|date:'j M Y' }}|{{ at }}|{{ at|date:'j M' }}|{{ at|date:'D j M, H:i' }}")
    jinja = env.from_string("{{ at|iso }}|{{ at|day }}|{{ at|localized }}|{{ at|day_month }}|{{ at|weekday_time }}")
    with timezone.override("Asia/Tokyo"):
        expected = django.render(Context({"at": moment}))
        assert jinja.render(at=moment) == expected
    assert "2 Mar 2026" in expected
    assert expected.endswith("|Mon 2 Mar, 08:30")


@pytest.mark.parametrize(
    ("hour", "minute"), [(0, 0), (0, 30), (9, 0), (9, 5), (11, 59), (12, 0), (12, 5), (13, 0), (23, 59)]
)
def test_localized_writes_what_the_template_language_writes_in_the_active_language(hour: int, minute: int) -> None:
    # Midnight, noon, whole hours without ":00", a.m. and p.m., every month; English is
    # written out, other languages' formats are Django's own.
    django, jinja = Template("{{ at }}"), environment().from_string("{{ at|localized }}")
    tokyo = ZoneInfo("Asia/Tokyo")
    for language in ("en", "de", "fr", "en"):
        with translation.override(language), timezone.override(tokyo):
            for month in range(1, 13):
                moment = datetime(2026, month, 28, hour, minute, tzinfo=tokyo)
                assert jinja.render(at=moment) == django.render(Context({"at": moment}))
    with timezone.override("UTC"):
        assert jinja.render(at=datetime(2026, 9, 1, 14, 5, tzinfo=UTC)) == "Sept. 1, 2026, 2:05 p.m."


def test_form_fields_is_one_template_for_both_engines_with_its_escaping() -> None:
    form = forms.Form({"note": ""})
    form.fields["note"] = forms.CharField(label="<b>Note</b>", help_text="Ok", error_messages={"required": "<i>"})
    html = environment().from_string("{{ form_fields(form) }}").render(form=form)
    assert render_to_string("partials/form_fields.html", {"form": form}).strip() == html.strip()
    assert "&lt;b&gt;Note&lt;/b&gt;" in html
    assert '<p class="field-error" role="alert">&lt;i&gt;</p>' in html
    assert '<div class="help" id="id_note_helptext">Ok</div>' in html
    assert "<b>" not in html


@pytest.mark.parametrize(
    "delta",
    [
        timedelta(0),
        timedelta(seconds=1),
        timedelta(seconds=59),
        timedelta(minutes=1),
        timedelta(minutes=61),
        timedelta(hours=5, minutes=3),
        timedelta(days=1, hours=2),
        timedelta(days=40),
        timedelta(days=400),
        -timedelta(minutes=3),
        -timedelta(days=3, hours=1),
    ],
)
def test_natural_time_writes_what_naturaltime_writes_in_the_active_language(delta: timedelta) -> None:
    moment = timezone.now() - delta
    for language in ("en", "de", "en"):  # the remembered texts are the active language's
        with translation.override(language):
            assert natural_time(moment) == naturaltime(moment)


def test_natural_time_remembers_each_language_apart() -> None:
    moment = timezone.now() - timedelta(hours=3)
    assert natural_time(moment) == "3\xa0hours ago"
    with translation.override("de"):
        assert natural_time(moment) == "vor 3 Stunden"
