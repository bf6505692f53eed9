"""The name a person chose to be shown by, for pages about one contact whose view does not
pass it (lists and the contact page look privacy up themselves, in one query)."""

from __future__ import annotations

from django import template

from contacts.models import Contact
from contacts.registry import contact_privacy

register = template.Library()


@register.simple_tag
def chosen_name(contact: Contact) -> str:
    """``contact_privacy(contact).name_for(contact)``: one query; use ``as`` to reuse it in a block."""
    return contact_privacy(contact).name_for(contact)
