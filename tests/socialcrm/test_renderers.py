"""The form renderer: Jinja2 for Django's widgets, the template language for the others."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.template.backends.django import Template as DjangoTemplate
from django.template.backends.jinja2 import Template as Jinja2Template

from socialcrm.renderers import FormRenderer


class _Form(forms.Form):
    name = forms.CharField()
    kind = forms.ChoiceField(choices=[("a", "<A & B>")], widget=forms.RadioSelect)
    password = ReadOnlyPasswordHashField()


def test_djangos_widgets_render_with_jinja2_and_escape():
    renderer = FormRenderer()
    form = _Form(data={"name": '"><script>alert(1)</script>'}, renderer=renderer)

    assert isinstance(renderer.get_template("django/forms/widgets/input.html"), Jinja2Template)
    html = str(form["name"]) + str(form["kind"])
    assert "<script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;' in html or 'value="&quot;&gt;&lt;script&gt;' in html
    assert "&lt;A &amp; B&gt;" in html


def test_widgets_with_template_language_templates_only_fall_back_to_it():
    renderer = FormRenderer()

    template = renderer.get_template("auth/widgets/read_only_password_hash.html")

    assert isinstance(template, DjangoTemplate)
    assert "No password set." in str(_Form(renderer=renderer)["password"])
