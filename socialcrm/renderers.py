"""The form renderer: Jinja2 for Django's own widgets, the template language for the rest."""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates, Jinja2
from django.template.exceptions import TemplateDoesNotExist


class FormRenderer(Jinja2):
    """Renders form widgets with Jinja2 (Django ships its widget templates for both engines).

    Several times faster than the template language: the contact page shows four forms,
    about a hundred widget templates per view. Widgets whose templates exist only for the
    template language (the admin's, ``auth``'s password widget) fall back to it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.fallback = DjangoTemplates()

    def get_template(self, template_name: str) -> Any:
        try:
            return super().get_template(template_name)
        except TemplateDoesNotExist:
            return self.fallback.get_template(template_name)
