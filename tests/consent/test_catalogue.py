from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models.signals import post_migrate

from consent.catalogue import PURPOSES
from consent.models import Purpose


@pytest.mark.django_db(transaction=True)
def test_catalogue_purposes_are_back_after_a_database_flush() -> None:
    call_command("flush", interactive=False, verbosity=0)

    assert set(Purpose.objects.values_list("code", flat=True)) == {spec["code"] for spec in PURPOSES}


@pytest.mark.django_db
def test_migrating_again_keeps_the_dpos_edits() -> None:
    Purpose.objects.filter(code="marketing_email").update(description="Our own words.", retention_days=90)

    post_migrate.send(sender=apps.get_app_config("consent"), app_config=apps.get_app_config("consent"))

    edited = Purpose.objects.get(code="marketing_email")
    assert (edited.description, edited.retention_days) == ("Our own words.", 90)
