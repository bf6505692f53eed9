"""Saved views: a user's named filters of the contact list."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.models import SavedView
from tests.factories import ContactFactory, SavedViewFactory

pytestmark = pytest.mark.django_db


def test_saving_keeps_only_the_lists_filters_and_reopens_them(alice: Any, team: Any, client_for: Any) -> None:
    client = client_for(alice)
    response = client.post(
        reverse("contacts:saved_view_create"),
        {"name": " My leads ", "query": f"q=ann&owner={alice.pk}&after=CURSOR&evil=<script>&sort=-created"},
    )
    view = SavedView.objects.get(user=alice)
    assert view.name == "My leads"
    assert view.query == f"q=ann&owner={alice.pk}&sort=-created"
    assert response["Location"] == reverse("contacts:list") + "?" + view.query
    page = client.get(reverse("contacts:list")).content.decode()
    assert "My leads" in page
    assert f'href="/contacts/?q=ann&amp;owner={alice.pk}&amp;sort=-created"' in page


def test_saving_the_same_name_again_replaces_the_query(alice: Any, client_for: Any) -> None:
    SavedViewFactory(user=alice, name="Mine", query="q=old")
    client_for(alice).post(reverse("contacts:saved_view_create"), {"name": "Mine", "query": "q=new"})
    assert list(SavedView.objects.filter(user=alice).values_list("name", "query")) == [("Mine", "q=new")]


def test_a_view_needs_a_name(alice: Any, client_for: Any) -> None:
    url = reverse("contacts:saved_view_create")
    response = client_for(alice).post(url, {"name": "  ", "query": "q=x"}, follow=True)
    assert not SavedView.objects.exists()
    assert "Give the view a name" in response.content.decode()


def test_views_are_private_to_their_owner(alice: Any, bob: Any, client_for: Any) -> None:
    SavedViewFactory(user=alice, name="Alice's secret view")
    assert "Alice&#x27;s secret view" not in client_for(bob).get(reverse("contacts:list")).content.decode()


def test_deleting_a_view(alice: Any, bob: Any, client_for: Any) -> None:
    view = SavedViewFactory(user=alice)
    assert client_for(bob).post(reverse("contacts:saved_view_delete", kwargs={"pk": view.pk})).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()
    assert client_for(alice).post(reverse("contacts:saved_view_delete", kwargs={"pk": view.pk})).status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_the_save_form_appears_once_the_list_is_filtered(alice: Any, team: Any, client_for: Any) -> None:
    ContactFactory(team=team, display_name="Ann")
    client = client_for(alice)
    assert "Save view" not in client.get(reverse("contacts:list")).content.decode()
    filtered = client.get(reverse("contacts:list"), {"q": "ann"}, headers={"HX-Request": "true"}).content.decode()
    assert "Save view" in filtered
    assert 'name="query" value="q=ann"' in filtered
