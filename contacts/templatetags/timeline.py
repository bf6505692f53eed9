"""Rendering helpers for the timeline: kind icons, safe bodies, contact-method links."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.utils.html import format_html, linebreaks, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from contacts.models import Activity, ContactMethod
from contacts.services.timeline import sanitize_html

register = template.Library()

# Longer bodies show a preview and the rest behind a <details>; beyond the cap the plain
# text is cut, so one pasted novel cannot make the contact page slow.
BODY_PREVIEW_CHARS = 1_200
BODY_MAX_CHARS = 50_000

_ICONS: dict[str, str] = {
    Activity.Kind.EMAIL: "✉️",
    Activity.Kind.CALL: "📞",
    Activity.Kind.MEETING: "🤝",
    Activity.Kind.NOTE: "📝",
    Activity.Kind.SOCIAL_POST: "💬",
    Activity.Kind.REMINDER_CREATED: "⏰",
    Activity.Kind.REMINDER_DONE: "✅",
    Activity.Kind.REMINDER_SNOOZED: "💤",
    Activity.Kind.PROFILE_FOUND: "🔎",
    Activity.Kind.CONSENT_CHANGED: "🛡️",
    Activity.Kind.REQUEST: "📨",
    Activity.Kind.MERGED: "🔀",
    Activity.Kind.SYSTEM: "⚙️",
}


_KIND_LABELS = dict(Activity.Kind.choices)


@lru_cache(maxsize=256)
def kind_label_and_icon(kind: str, language: str | None) -> tuple[str, SafeString]:
    """A kind's name (``get_kind_display()``) and its icon, which screen readers announce by
    that name; worked out once per ``language`` (the active one)."""
    label = str(_KIND_LABELS.get(kind, kind))
    icon = format_html('<span class="kind-icon" role="img" aria-label="{}">{}</span>', label, _ICONS.get(kind, "•"))
    return label, icon


def _plain(text: str) -> SafeString:
    return mark_safe(linebreaks(text, autoescape=True))  # noqa: S308 - linebreaks escaped the text


def _full(activity: Activity) -> tuple[SafeString, str]:
    """The whole body as safe HTML, and its plain text (for the preview)."""
    if activity.body_html and len(activity.body_html) <= BODY_MAX_CHARS:
        # Sanitized again on output: rows written by bulk loads never went through activity_record.
        html = mark_safe(sanitize_html(activity.body_html))  # noqa: S308 - nh3 output
        return html, activity.body or strip_tags(html)
    text = activity.body or strip_tags(activity.body_html)
    if len(text) > BODY_MAX_CHARS:
        cut = Truncator(text).chars(BODY_MAX_CHARS)
        return format_html('{}<p class="muted">(cut: {} characters in all)</p>', _plain(cut), len(text)), text
    return _plain(text), text


@register.simple_tag
def activity_body(activity: Activity) -> SafeString:
    """The entry's body, safe to insert: plain text escaped, HTML only from the sanitized field."""
    if not activity.body and not activity.body_html:
        return mark_safe("")
    full, text = _full(activity)
    if len(text) <= BODY_PREVIEW_CHARS and len(activity.body_html) <= BODY_PREVIEW_CHARS * 4:
        return format_html('<div class="timeline-body">{}</div>', full)
    preview = _plain(Truncator(text).chars(BODY_PREVIEW_CHARS))
    return format_html(
        '<div class="timeline-body"><div class="timeline-preview">{}</div>'
        "<details><summary>Show more</summary>{}</details></div>",
        preview,
        full,
    )


@register.simple_tag
def method_href(method: ContactMethod) -> str:
    """A click-to-email/call/visit link for the method, or "" when it has none."""
    if method.kind == ContactMethod.Kind.EMAIL:
        return f"mailto:{method.normalized}"
    if method.kind == ContactMethod.Kind.PHONE:
        return f"tel:{method.normalized}"
    url = method.normalized or method.value
    if url.startswith(("https://", "http://")):
        return url
    return ""
