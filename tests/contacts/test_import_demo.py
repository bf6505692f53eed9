"""The import demo loader: a sample file of every format imported into the demo team, once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase
from django.urls import reverse

from contacts.demo_imports import load_demo_imports
from contacts.models import Contact, ImportJob
from socialcrm.registry import DemoContext, demo_loaders

pytestmark = pytest.mark.django_db


@pytest.fixture
def context(team: Any, alice: Any, mona: Any, dpo: Any, admin: Any) -> DemoContext:
    return DemoContext(team=team, sales=alice, manager=mona, dpo=dpo, admin=admin, say=lambda message: None)


def test_the_loader_runs_after_the_contacts_loader() -> None:
    orders = {loader.name: loader.order for loader in demo_loaders()}
    assert orders["Imported contacts (every import format)"] == 130
    assert orders["Contacts and timelines"] < 130


def test_imports_the_sample_files_once(context: DemoContext, alice: Any, team: Any) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        load_demo_imports(context)
    with TestCase.captureOnCommitCallbacks(execute=True):
        load_demo_imports(context)

    jobs = ImportJob.objects.filter(team=team).order_by("file_name")
    assert [(job.file_name, job.status, job.created_by, job.counts) for job in jobs] == [
        ("apple_contacts.vcf", "done", alice, {"create": 2, "organization": 1}),
        ("contacts_v4.vcf", "done", alice, {"create": 1}),
        ("google_contacts.csv", "done", alice, {"create": 3, "organization": 1}),
        ("linkedin_connections.csv", "done", alice, {"create": 6, "skip": 1}),
        ("outlook_contacts.csv", "done", alice, {"create": 2}),
    ]
    assert Contact.objects.filter(team=team).count() == 14


def test_the_list_page_offers_the_export_of_its_filters(alice: Any, client_for: Any) -> None:
    page = client_for(alice).get(reverse("contacts:list"), {"q": "ann"}).content.decode()

    # ... for sales outreach or for marketing email, through the page that says who is left out.
    confirm = reverse("contacts:export_confirm")
    assert f'href="{confirm}?q=ann&amp;purpose=sales_outreach"' in page
    assert f'href="{confirm}?q=ann&amp;purpose=marketing_email"' in page
