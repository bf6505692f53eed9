"""The Jinja2 environment for the templates under ``templates/jinja2/`` (the hottest fragments:
list and timeline rows, the contact page's reminders and consent panels).

Rendering a row with Django's template language costs a few tenths of a millisecond
(variable resolution, ``{% url %}``, filters that parse their format string each call);
Jinja2 compiles templates to Python. Autoescaping is on (Django's backend default), and
Django's safe strings and forms keep their meaning (they implement ``__html__``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, intcomma
from django.template import engines
from django.template.defaultfilters import floatformat, pluralize, slugify, truncatechars, urlencode
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import formats, timezone
from django.utils.dates import MONTHS_3, MONTHS_AP, WEEKDAYS_ABBR
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext
from jinja2 import Environment

# Stands for the id while reversing once; no route of ours contains it literally.
_ID_MARKER = 987654321987654321


def id_url(name: str) -> Callable[[Any], str]:
    """The URL named ``name`` whose only argument is an id, reversed once per process (and
    URL configuration): the returned function fills in the id (``reverse`` per row costs
    more than the rest of a row)."""
    prefix, suffix = _id_url_parts(name, get_script_prefix(), get_urlconf())
    return lambda pk: f"{prefix}{int(pk)}{suffix}"


@lru_cache(maxsize=256)
def _id_url_parts(name: str, script_prefix: str, urlconf: str | None) -> tuple[str, str]:
    prefix, _, suffix = reverse(name, args=[_ID_MARKER], urlconf=urlconf).partition(str(_ID_MARKER))
    return prefix, suffix


class _Remembered:
    """One of ``naturaltime``'s translated strings in one language, its ``%`` results
    remembered: looking up the translation is most of ``naturaltime``'s cost, and the counts
    ("3 hours", "2 days") repeat."""

    __slots__ = ("results", "text")

    def __init__(self, text: Any) -> None:
        self.text = text
        self.results: dict[tuple[Any, ...], str] = {}

    def __mod__(self, params: dict[str, Any]) -> str:
        key = tuple(params.values())
        result = self.results.get(key)
        if result is None:
            if len(self.results) >= 10_000:  # "%(delta)s ago" takes any delta: stay bounded
                self.results.clear()
            result = self.results[key] = str(self.text % params)
        return result

    def __str__(self) -> str:
        return str(self.text)


@lru_cache(maxsize=16)
def _natural_time_in(language: str | None) -> type[NaturalTimeFormatter]:
    """``naturaltime``'s formatter with its texts remembered, for ``language`` (used only
    while it is the active one)."""
    texts = {
        table: {key: _Remembered(text) for key, text in getattr(NaturalTimeFormatter, table).items()}
        for table in ("time_strings", "past_substrings", "future_substrings")
    }
    return type("NaturalTimeFormatter", (NaturalTimeFormatter,), texts)


def natural_time(value: datetime) -> str:
    """Django's ``naturaltime`` ("3 hours ago", "2 days, 4 hours ago"), the same text for a
    fraction of the cost (see ``_Remembered``)."""
    return str(_natural_time_in(get_language()).string_for(value))


def iso(value: datetime) -> str:
    """Django's ``date:'c'`` in the current time zone (for ``<time datetime>``)."""
    return timezone.localtime(value).isoformat()


def day(value: datetime) -> str:
    """Django's ``date:'j M Y'`` in the current time zone ("2 Mar 2026")."""
    local = timezone.localtime(value)
    return f"{local.day} {MONTHS_3[local.month].title()} {local.year}"


def day_month(value: datetime) -> str:
    """Django's ``date:'j M'`` in the current time zone ("2 Mar")."""
    local = timezone.localtime(value)
    return f"{local.day} {MONTHS_3[local.month].title()}"


def weekday_time(value: datetime) -> str:
    """Django's ``date:'D j M, H:i'`` in the current time zone ("Mon 2 Mar, 14:05")."""
    local = timezone.localtime(value)
    return f"{WEEKDAYS_ABBR[local.weekday()]} {local.day} {MONTHS_3[local.month].title()}, {local:%H:%M}"


# Django's DATETIME_FORMAT in English ("Dec. 7, 2026, 2:05 p.m."), which ``localized`` writes out.
_ENGLISH_DATETIME = "N j, Y, P"


@lru_cache(maxsize=64)
def _datetime_words(language: str | None) -> tuple[str, dict[int, str], dict[str, str]]:
    """The DATETIME_FORMAT of ``language`` (the active one), its abbreviated month names and
    the words of its times of day: translated once per language, not for every date."""
    words = {word: gettext(word) for word in ("a.m.", "p.m.", "midnight", "noon")}
    return formats.get_format("DATETIME_FORMAT", lang=language), {n: str(m) for n, m in MONTHS_AP.items()}, words


def localized(value: datetime) -> str:
    """A datetime as ``{{ value }}`` prints it in the template language (current time zone).

    Django's ``localize`` parses the format and looks up a translation for the month and
    the time of day at each call (most of a list row's date cost); the English format is
    written out here with the words looked up once per language. Other formats go to Django.
    """
    local = timezone.localtime(value)
    pattern, months, words = _datetime_words(get_language())
    if pattern != _ENGLISH_DATETIME:
        return formats.localize(local)
    # Django's "P": "midnight", "noon", or the 12-hour time without ":00" and a.m./p.m.
    if local.minute == 0 and local.hour in (0, 12):
        clock = words["noon" if local.hour else "midnight"]
    else:
        hour = local.hour % 12 or 12
        clock = f"{hour}:{local.minute:02d}" if local.minute else str(hour)
        clock = f"{clock} {words['p.m.' if local.hour > 11 else 'a.m.']}"
    return f"{months[local.month]} {local.day}, {local.year:04d}, {clock}"


def form_fields(form: Any) -> SafeString:
    """A form's fields, errors and help as every page shows them: the Jinja2 template
    ``partials/form_fields.html``, one copy for both engines (the template language's
    ``partials/form_fields.html`` calls this; Jinja2 renders a form's widgets several times
    faster, and the contact page shows three forms)."""
    # This engine's own template: the template language's of the same name calls form_fields.
    template = engines["jinja2"].get_template("partials/form_fields.html")
    return mark_safe(template.render({"form": form}))  # noqa: S308 - an autoescaping engine's output


def environment(**options: Any) -> Environment:
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    env.globals.update(form_fields=form_fields, id_url=id_url, url=lambda name, *args: reverse(name, args=args))
    env.filters.update(
        capfirst=capfirst,
        day=day,
        day_month=day_month,
        floatformat=floatformat,
        intcomma=intcomma,
        iso=iso,
        localized=localized,
        naturaltime=natural_time,
        pluralize=pluralize,
        slugify=slugify,
        truncatechars=truncatechars,
        urlencode=urlencode,
        weekday_time=weekday_time,
    )
    return env
