"""Normalization, the contact and organization services, and their forms and views."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from contacts.models import Activity, Contact, Organization
from contacts.normalize import normalize_domain, normalize_email, normalize_method, normalize_phone
from contacts.services import contacts as services
from tests.factories import ContactFactory, OrganizationFactory, TagFactory

pytestmark = pytest.mark.django_db


# --- Normalization -------------------------------------------------------------------------


def test_emails_are_lower_cased_with_an_idna_domain() -> None:
    assert normalize_email("  Ann.Lee@Bücher.Example ") == "ann.lee@xn--bcher-kva.example"


@pytest.mark.parametrize("value", ["ann", "ann@", "@example.com", "ann@exa mple.com", "ann@@example.com"])
def test_invalid_emails_are_rejected(value: str) -> None:
    with pytest.raises(ValidationError):
        normalize_email(value)


def test_phones_become_e164() -> None:
    assert normalize_phone("+49 30 1234-5678") == "+493012345678"
    assert normalize_phone("(415) 555-0132", "US") == "+14155550132"


@pytest.mark.parametrize("value", ["12", "call me", ""])
def test_invalid_phones_are_rejected(value: str) -> None:
    with pytest.raises(ValidationError):
        normalize_phone(value)


def test_methods_normalize_by_kind() -> None:
    assert normalize_method("website", "Example.COM/About") == "https://example.com/About"
    assert normalize_method("handle", " @Ann@Mastodon.Example ") == "@ann@mastodon.example"
    assert normalize_domain("Bücher.Example.") == "xn--bcher-kva.example"
    with pytest.raises(ValidationError):
        normalize_domain("example.com/path")


# --- Services ------------------------------------------------------------------------------


def test_contact_create_normalizes_methods_and_marks_the_first_primary(alice: Any, team: Any) -> None:
    organization = OrganizationFactory(team=team)
    contact = services.contact_create(
        actor=alice,
        team=team,
        first_name=" Ann ",
        last_name="Lee",
        organization=organization,
        owner=alice,
        emails=["Ann@Example.COM", "ann@example.com", "lee@home.example"],
        phones=["+44 20 7946 0958"],
        tags=["vip", " vip ", "press"],
    )
    assert contact.display_name == "Ann Lee"
    emails = contact.methods.filter(kind="email").order_by("-is_primary", "id").values_list("normalized", "is_primary")
    assert list(emails) == [("ann@example.com", True), ("lee@home.example", False)]
    assert contact.methods.get(kind="phone").normalized == "+442079460958"
    assert sorted(contact.tags.values_list("name", flat=True)) == ["press", "vip"]
    assert contact.activities.get().kind == Activity.Kind.SYSTEM


def test_contact_create_rejects_an_invalid_email_and_writes_nothing(alice: Any, team: Any) -> None:
    with pytest.raises(ValidationError):
        services.contact_create(actor=alice, team=team, first_name="Ann", emails=["not-an-email"])
    assert not Contact.objects.exists()


def test_contact_create_refuses_a_duplicate_email_in_the_team_and_names_the_owner(alice: Any, team: Any) -> None:
    existing = ContactFactory(team=team, email="ann@example.com")
    with pytest.raises(services.DuplicateContactError) as caught:
        services.contact_create(actor=alice, team=team, first_name="Ann", emails=["ANN@example.com"])
    assert caught.value.existing == existing
    assert Contact.objects.count() == 1


def test_the_same_email_may_exist_in_another_team(alice: Any, team: Any, other_team: Any) -> None:
    ContactFactory(team=other_team, email="ann@example.com")
    contact = services.contact_create(actor=alice, team=team, first_name="Ann", emails=["ann@example.com"])
    assert contact.methods.get().normalized == "ann@example.com"


def test_contact_create_refuses_another_teams_organization_and_a_non_member_owner(
    alice: Any, team: Any, other_team: Any, charlie: Any
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.contact_create(
            actor=alice, team=team, first_name="Ann", organization=OrganizationFactory(team=other_team), owner=charlie
        )
    assert set(caught.value.message_dict) == {"organization", "owner"}


def test_contact_update_keeps_remaining_methods_and_replaces_the_rest(alice: Any, team: Any) -> None:
    contact = services.contact_create(
        actor=alice, team=team, first_name="Ann", emails=["a@example.com", "b@example.com"], tags=["old"]
    )
    kept = contact.methods.get(normalized="b@example.com")
    services.contact_update(
        actor=alice, contact=contact, first_name="Ann", last_name="Lee", emails=["b@example.com", "c@example.com"]
    )
    contact.refresh_from_db()
    assert contact.display_name == "Ann Lee"
    assert contact.methods.get(normalized="b@example.com").pk == kept.pk
    primary = contact.methods.get(is_primary=True)
    assert primary.normalized == "b@example.com"
    assert set(contact.methods.values_list("normalized", flat=True)) == {"b@example.com", "c@example.com"}
    assert not contact.tags.exists()


def test_contact_update_refuses_an_email_of_another_contact(alice: Any, team: Any) -> None:
    other = ContactFactory(team=team, email="taken@example.com")
    contact = ContactFactory(team=team, email="mine@example.com")
    with pytest.raises(services.DuplicateContactError) as caught:
        services.contact_update(actor=alice, contact=contact, first_name="X", emails=["taken@example.com"])
    assert caught.value.existing == other
    assert contact.methods.get().normalized == "mine@example.com"


def test_archive_and_unarchive_are_idempotent_and_logged(alice: Any, team: Any) -> None:
    contact = ContactFactory(team=team)
    services.contact_archive(actor=alice, contact=contact)
    services.contact_archive(actor=alice, contact=contact)
    contact.refresh_from_db()
    assert contact.archived
    services.contact_unarchive(actor=alice, contact=contact)
    contact.refresh_from_db()
    assert not contact.archived
    assert list(contact.activities.order_by("id").values_list("subject", flat=True)) == [
        "Contact archived",
        "Contact restored from the archive",
    ]


# --- Views ---------------------------------------------------------------------------------


def _contact_post(team: Any, **overrides: str) -> dict[str, str]:
    data = {"team": str(team.pk), "first_name": "Ann", "last_name": "Lee", "emails": "ann@example.com"}
    data.update(overrides)
    return data


def test_create_view_adds_the_contact_and_opens_it(alice: Any, team: Any, client_for: Any) -> None:
    TagFactory(team=team, name="vip")
    response = client_for(alice).post(
        reverse("contacts:create"),
        _contact_post(team, phones="+1 415 555 0132\n", tags="vip, new", owner=str(alice.pk)),
    )
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:detail", kwargs={"pk": contact.pk})
    assert contact.owner == alice
    assert contact.methods.get(kind="phone").normalized == "+14155550132"
    assert sorted(contact.tags.values_list("name", flat=True)) == ["new", "vip"]


def test_create_view_explains_invalid_email_and_phone(alice: Any, team: Any, client_for: Any) -> None:
    response = client_for(alice).post(
        reverse("contacts:create"), _contact_post(team, emails="ann@example.com\nann at example", phones="12")
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "“ann at example” is not a valid email address" in body
    assert "“12” is not a valid phone number" in body
    assert not Contact.objects.exists()


def test_create_view_needs_a_name(alice: Any, team: Any, client_for: Any) -> None:
    response = client_for(alice).post(reverse("contacts:create"), _contact_post(team, first_name="", last_name=""))
    assert response.status_code == 422
    assert "Give at least a first name" in response.content.decode()


def test_create_view_links_to_the_existing_contact_on_a_duplicate_email(alice: Any, team: Any, client_for: Any) -> None:
    existing = ContactFactory(team=team, display_name="Ann Existing", email="ann@example.com")
    response = client_for(alice).post(reverse("contacts:create"), _contact_post(team, emails="ANN@example.com"))
    assert response.status_code == 422
    body = response.content.decode()
    assert reverse("contacts:detail", kwargs={"pk": existing.pk}) in body
    assert "already belongs to" in body
    assert Contact.objects.count() == 1


def test_edit_view_shows_current_values_and_saves(alice: Any, team: Any, client_for: Any) -> None:
    contact = ContactFactory(team=team, first_name="Ann", last_name="Lee", email="ann@example.com")
    client = client_for(alice)
    page = client.get(reverse("contacts:edit", kwargs={"pk": contact.pk})).content.decode()
    assert "ann@example.com" in page
    response = client.post(
        reverse("contacts:edit", kwargs={"pk": contact.pk}),
        {"first_name": "Ann", "last_name": "Lee-Smith", "emails": "ann@example.com\nals@example.com", "title": "CTO"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.display_name, contact.title) == ("Ann Lee-Smith", "CTO")
    assert contact.methods.count() == 2


def test_archive_view_confirms_then_archives_on_post(alice: Any, team: Any, client_for: Any) -> None:
    contact = ContactFactory(team=team)
    client = client_for(alice)
    url = reverse("contacts:archive", kwargs={"pk": contact.pk})
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Archive this contact" in confirm.content.decode()
    contact.refresh_from_db()
    assert not contact.archived
    assert client.post(url).status_code == 302
    contact.refresh_from_db()
    assert contact.archived
    client.post(reverse("contacts:unarchive", kwargs={"pk": contact.pk}))
    contact.refresh_from_db()
    assert not contact.archived


def test_no_view_deletes_a_contact_permanently(alice: Any, team: Any, client_for: Any) -> None:
    contact = ContactFactory(team=team)
    client = client_for(alice)
    client.post(reverse("contacts:archive", kwargs={"pk": contact.pk}))
    assert Contact.objects.filter(pk=contact.pk).exists()
    page = client.get(reverse("contacts:edit", kwargs={"pk": contact.pk})).content.decode()
    assert "Delete" not in page


def test_organization_create_and_edit_normalize_the_domain(alice: Any, team: Any, client_for: Any) -> None:
    client = client_for(alice)
    response = client.post(
        reverse("contacts:organization_create"), {"team": team.pk, "name": "Bücher GmbH", "domain": "Bücher.Example"}
    )
    organization = Organization.objects.get()
    assert response.status_code == 302
    assert organization.domain == "xn--bcher-kva.example"
    bad = client.post(
        reverse("contacts:organization_edit", kwargs={"pk": organization.pk}), {"name": "B", "domain": "not a domain"}
    )
    assert bad.status_code == 422
    assert "Enter a domain like example.com." in bad.content.decode()
    client.post(reverse("contacts:organization_edit", kwargs={"pk": organization.pk}), {"name": "Bücher AG"})
    organization.refresh_from_db()
    assert (organization.name, organization.domain) == ("Bücher AG", "")


def test_organization_archive_hides_it_from_the_contact_form(alice: Any, team: Any, client_for: Any) -> None:
    organization = OrganizationFactory(team=team, name="Gone Corp")
    client = client_for(alice)
    client.post(reverse("contacts:organization_archive", kwargs={"pk": organization.pk}))
    organization.refresh_from_db()
    assert organization.archived
    assert ">Gone Corp</option>" not in client.get(reverse("contacts:create")).content.decode()


def test_a_contact_keeps_its_archived_organization_when_edited(alice: Any, team: Any, client_for: Any) -> None:
    organization = OrganizationFactory(team=team, name="Gone Corp", archived=True)
    contact = ContactFactory(team=team, organization=organization)
    response = client_for(alice).post(
        reverse("contacts:edit", kwargs={"pk": contact.pk}), {"first_name": "Ann", "organization": organization.pk}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.organization == organization


def test_local_phone_numbers_use_the_configured_region(settings: Any) -> None:
    settings.PHONE_DEFAULT_REGION = "GB"

    assert normalize_phone("020 7946 0018") == "+442079460018"


def test_without_a_region_local_numbers_stay_digits(settings: Any) -> None:
    settings.PHONE_DEFAULT_REGION = ""

    assert normalize_phone("020 7946 0018") == "02079460018"


def test_remembered_phone_numbers_are_read_in_each_region_and_invalid_ones_still_raise() -> None:
    # normalize_phone remembers results (imports repeat numbers): by value and region.
    assert normalize_phone("020 7946 0018", "GB") == "+442079460018"
    assert normalize_phone(" 020 7946 0018 ", "DE") == "+492079460018"
    assert normalize_phone("020 7946 0018", "GB") == "+442079460018"
    for _ in range(2):
        with pytest.raises(ValidationError):
            normalize_phone("12", "GB")
