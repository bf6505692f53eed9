"""Findings into SocialProfile rows (conflicts side by side) and staff's accept/reject."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contacts.models import Contact, Organization
from contacts.registry import personal_data_holders
from enrichment.findings import Finding
from enrichment.models import SocialProfile
from enrichment.services import profile_accept, profile_reject, profiles_upsert
from socialcrm.models import Team, User
from tests.factories import ContactFactory, OrganizationFactory

URL = "https://github.com/adaexample"


def finding(provider: str = "github", **values: object) -> Finding:
    return Finding(network="github", provider=provider, url=URL, source_url=f"https://{provider}.example/", **values)  # type: ignore[arg-type]


@pytest.fixture
def contact(team: Team) -> Contact:
    return ContactFactory(team=team, title="", location="")


def test_upserting_the_same_finding_twice_keeps_one_row(contact: Contact) -> None:
    first = profiles_upsert(contact=contact, findings=[finding(display_name="Ada")])
    second = profiles_upsert(contact=contact, findings=[finding(display_name="Ada")])

    assert (len(first.created), len(second.created), len(second.updated)) == (1, 0, 1)
    assert SocialProfile.objects.filter(contact=contact).count() == 1


def test_another_provider_s_differing_value_is_kept_beside_the_first_never_merged(contact: Contact) -> None:
    profiles_upsert(contact=contact, findings=[finding(display_name="Ada Example", title="Engineer")])
    profiles_upsert(contact=contact, findings=[finding("gravatar", display_name="Ada E.", title="Engineer")])

    profile = SocialProfile.objects.get(contact=contact)
    assert (profile.display_name, profile.provider) == ("Ada Example", "github")
    assert [(c["value"], c["provider"]) for c in profile.conflicts["display_name"]] == [("Ada E.", "gravatar")]
    assert "title" not in profile.conflicts  # the same value is no conflict


def test_special_category_text_and_disallowed_fields_are_never_stored(contact: Contact, settings: object) -> None:
    settings.ENRICHMENT_ALLOWED_FIELDS = ["display_name", "bio"]  # type: ignore[attr-defined]
    profiles_upsert(
        contact=contact, findings=[finding(display_name="Ada", bio="Proud union member", location="Lisbon")]
    )

    profile = SocialProfile.objects.get(contact=contact)
    assert (profile.display_name, profile.bio, profile.location) == ("Ada", "", "")


def test_a_megabyte_name_is_stored_capped(contact: Contact) -> None:
    profiles_upsert(contact=contact, findings=[finding(display_name="A" * 1_048_576)])
    assert len(SocialProfile.objects.get(contact=contact).display_name) == 200


def test_an_opt_out_finding_stores_nothing(contact: Contact) -> None:
    result = profiles_upsert(contact=contact, findings=[Finding.opted_out(network="bluesky", provider="bluesky")])
    assert result.created == []
    assert not SocialProfile.objects.filter(contact=contact).exists()


def test_accepting_fills_only_the_contact_s_empty_fields(contact: Contact, alice: User) -> None:
    contact.title = "Head of Data"  # typed by staff
    contact.save(update_fields=["title"])
    profiles_upsert(
        contact=contact, findings=[finding(title="Staff Engineer", location="Lisbon", company="Example Ltd")]
    )
    profile = SocialProfile.objects.get(contact=contact)

    filled = profile_accept(actor=alice, profile=profile)

    contact.refresh_from_db()
    assert (contact.title, contact.location) == ("Head of Data", "Lisbon")
    assert contact.organization is not None and contact.organization.name == "Example Ltd"
    assert sorted(filled) == ["location", "organization"]
    assert SocialProfile.objects.get(pk=profile.pk).status == SocialProfile.Status.ACCEPTED


def test_accepting_a_company_reuses_the_team_s_organization_and_keeps_a_chosen_one(
    contact: Contact, alice: User, team: Team
) -> None:
    existing = OrganizationFactory(team=team, name="Example Ltd")
    profiles_upsert(contact=contact, findings=[finding(company="example ltd")])
    profile_accept(actor=alice, profile=SocialProfile.objects.get(contact=contact), field="company")
    contact.refresh_from_db()
    assert contact.organization == existing

    other = ContactFactory(team=team, organization=OrganizationFactory(team=team, name="Chosen"))
    profiles_upsert(contact=other, findings=[finding(company="Another Co")])
    profile_accept(actor=alice, profile=SocialProfile.objects.get(contact=other), field="company")
    other.refresh_from_db()
    assert other.organization is not None and other.organization.name == "Chosen"
    assert not Organization.objects.filter(name="Another Co").exists()


def test_accepting_one_field_marks_that_field(contact: Contact, alice: User) -> None:
    profiles_upsert(contact=contact, findings=[finding(title="Staff Engineer", location="Lisbon")])
    profile = SocialProfile.objects.get(contact=contact)

    assert profile_accept(actor=alice, profile=profile, field="title") == ["title"]

    contact.refresh_from_db()
    profile.refresh_from_db()
    assert (contact.title, contact.location) == ("Staff Engineer", "")
    assert profile.field_status == {"title": "accepted"}
    with pytest.raises(ValidationError):
        profile_accept(actor=alice, profile=profile, field="password")


def test_rejecting_a_value_deletes_it_and_a_refresh_does_not_bring_it_back(contact: Contact, alice: User) -> None:
    profiles_upsert(contact=contact, findings=[finding(title="Staff Engineer", bio="Maps")])
    profile_reject(actor=alice, profile=SocialProfile.objects.get(contact=contact), field="title")
    profiles_upsert(contact=contact, findings=[finding(title="Staff Engineer", bio="Maps")])

    profile = SocialProfile.objects.get(contact=contact)
    assert (profile.title, profile.bio, profile.field_status) == ("", "Maps", {"title": "rejected"})


def test_rejecting_a_profile_keeps_only_its_identity_and_it_is_not_suggested_again(
    contact: Contact, alice: User
) -> None:
    profiles_upsert(contact=contact, findings=[finding(display_name="Ada", bio="Maps", links=["https://ada.example/"])])
    profile_reject(actor=alice, profile=SocialProfile.objects.get(contact=contact))
    profiles_upsert(contact=contact, findings=[finding(display_name="Ada", bio="Maps")])

    profile = SocialProfile.objects.get(contact=contact)
    assert profile.status == SocialProfile.Status.REJECTED
    assert (profile.url, profile.display_name, profile.bio, profile.links) == (URL, "", "", [])


def test_the_personal_data_holder_exports_and_erases_profiles(contact: Contact) -> None:
    profiles_upsert(contact=contact, findings=[finding(display_name="Ada")])
    holder = next(h for h in personal_data_holders() if h.name == "enrichment")

    exported = holder.export(contact)
    holder.erase(contact)

    assert [p["url"] for p in exported["social_profiles"]] == [URL]
    assert not SocialProfile.objects.filter(contact=contact).exists()


SITE = "https://ada.example/"


def site(*rel_me: str) -> Finding:
    return Finding(network="website", provider="website", url=SITE, links=list(rel_me), verified_links=list(rel_me))


def test_verification_is_recomputed_on_every_refresh(contact: Contact) -> None:
    profiles_upsert(contact=contact, findings=[site(URL), finding(confidence=0.6, verified_links=[SITE])])
    profile = SocialProfile.objects.get(contact=contact, network="github")
    assert (profile.verified, profile.confidence) == (True, pytest.approx(0.95))

    # GitHub no longer links back to the site: one-way again.
    profiles_upsert(contact=contact, findings=[site(URL), finding(confidence=0.6)])
    profile.refresh_from_db()
    assert (profile.verified, profile.confidence) == (False, pytest.approx(0.6))

    # Back-link restored, but the site dropped its rel=me link (the stored site row is refreshed in the same run).
    profiles_upsert(contact=contact, findings=[site(URL), finding(confidence=0.6, verified_links=[SITE])])
    profiles_upsert(contact=contact, findings=[site(), finding(confidence=0.6, verified_links=[SITE])])
    profile.refresh_from_db()
    assert (profile.verified, profile.confidence) == (False, pytest.approx(0.6))
