"""``{% form_fields form %}``: the template language's way to the one form-fields template."""

from __future__ import annotations

from django import template

from socialcrm.jinja import form_fields

register = template.Library()
register.simple_tag(form_fields, name="form_fields")
