"""Writing contacts and organizations: create, edit, archive.

Permanent deletion of a person is not here: it is erasure, which the consent app runs
across every registered personal-data holder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from contacts.models import Activity, Contact, ContactMethod, Organization, SavedView, Tag
from contacts.normalize import normalize_domain, normalize_method
from contacts.services.reminders import contact_cadence_refresh
from contacts.services.timeline import activity_record
from socialcrm.models import Team

Kind = ContactMethod.Kind


class DuplicateContactError(ValidationError):
    """An email address given for a contact already belongs to another contact of the team."""

    def __init__(self, email: str, existing: Contact) -> None:
        super().__init__({"emails": f"{email} already belongs to {existing.display_name} in this team."})
        self.email = email
        self.existing = existing


def _normalized(kind: str, values: Sequence[str]) -> list[tuple[str, str]]:
    """(value, normalized) pairs, blanks and repeats dropped, in the given order."""
    seen: set[str] = set()
    pairs = []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        normalized = normalize_method(kind, value)
        if normalized not in seen:
            seen.add(normalized)
            pairs.append((value, normalized))
    return pairs


def _check_unique_emails(team: Team, emails: list[tuple[str, str]], contact: Contact | None) -> None:
    taken = ContactMethod.objects.filter(team=team, kind=Kind.EMAIL, normalized__in=[n for _, n in emails])
    if contact is not None:
        taken = taken.exclude(contact=contact)
    clash = taken.select_related("contact").first()
    if clash is not None:
        raise DuplicateContactError(clash.value, clash.contact)


def _check_team(team: Team, organization: Organization | None, owner: Any) -> None:
    errors = {}
    if organization is not None and organization.team_id != team.pk:
        errors["organization"] = "Choose an organization of the contact's team."
    if owner is not None and not team.members.filter(pk=owner.pk).exists():
        errors["owner"] = "Choose a member of the contact's team."
    if errors:
        raise ValidationError(errors)


def _set_methods(contact: Contact, kind: str, pairs: list[tuple[str, str]]) -> None:
    """Make ``contact``'s methods of ``kind`` exactly ``pairs``; the first is the primary one.

    Methods that stay keep their id and label.
    """
    existing = {method.normalized: method for method in contact.methods.filter(kind=kind)}
    wanted = {normalized for _, normalized in pairs}
    contact.methods.filter(kind=kind).exclude(normalized__in=wanted).delete()
    for position, (value, normalized) in enumerate(pairs):
        is_primary = position == 0
        method = existing.get(normalized)
        if method is None:
            ContactMethod.objects.create(
                contact=contact,
                team_id=contact.team_id,
                kind=kind,
                value=value,
                normalized=normalized,
                is_primary=is_primary,
            )
        elif (method.value, method.is_primary) != (value, is_primary):
            method.value, method.is_primary = value, is_primary
            method.save(update_fields=["value", "is_primary"])


def _set_tags(contact: Contact, names: Sequence[str]) -> None:
    cleaned = dict.fromkeys(name.strip()[:60] for name in names if name.strip())
    contact.tags.set([Tag.objects.get_or_create(team_id=contact.team_id, name=name)[0] for name in cleaned])


def _save_methods(contact: Contact, methods: dict[str, list[tuple[str, str]]]) -> None:
    try:
        with transaction.atomic():
            for kind, pairs in methods.items():
                _set_methods(contact, kind, pairs)
    except IntegrityError:
        # Another request gave the same email to another contact between check and insert.
        _check_unique_emails(contact.team, methods[Kind.EMAIL], contact)
        raise


def _parse_methods(
    emails: Sequence[str], phones: Sequence[str], websites: Sequence[str], handles: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    return {
        Kind.EMAIL: _normalized(Kind.EMAIL, emails),
        Kind.PHONE: _normalized(Kind.PHONE, phones),
        Kind.WEBSITE: _normalized(Kind.WEBSITE, websites),
        Kind.HANDLE: _normalized(Kind.HANDLE, handles),
    }


def _display_name(first_name: str, last_name: str, display_name: str) -> str:
    name = display_name.strip() or Contact.compose_display_name(first_name, last_name)
    if not name:
        raise ValidationError({"display_name": "Give the contact a name."})
    return name


@transaction.atomic
def contact_create(
    *,
    actor: Any,
    team: Team,
    first_name: str = "",
    last_name: str = "",
    display_name: str = "",
    organization: Organization | None = None,
    title: str = "",
    location: str = "",
    notes: str = "",
    owner: Any = None,
    tags: Sequence[str] = (),
    cadence_days: int | None = None,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    websites: Sequence[str] = (),
    handles: Sequence[str] = (),
) -> Contact:
    """Create a contact in ``team`` with its methods (normalized; the first of each kind is primary).

    Raises ValidationError for invalid input, and ``DuplicateContactError`` (a ValidationError
    naming the existing contact) when one of the emails already belongs to the team.
    """
    methods = _parse_methods(emails, phones, websites, handles)
    _check_team(team, organization, owner)
    _check_unique_emails(team, methods[Kind.EMAIL], None)
    contact = Contact.objects.create(
        team=team,
        owner=owner,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        display_name=_display_name(first_name, last_name, display_name),
        organization=organization,
        title=title.strip(),
        location=location.strip(),
        notes=notes,
        cadence_days=cadence_days,
    )
    _save_methods(contact, methods)
    _set_tags(contact, tags)
    if cadence_days:
        contact_cadence_refresh(contact=contact)  # start the keep-in-touch clock
    activity_record(contact=contact, kind=Activity.Kind.SYSTEM, actor=actor, subject="Contact created", source="crm")
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: Any,
    contact: Contact,
    first_name: str = "",
    last_name: str = "",
    display_name: str = "",
    organization: Organization | None = None,
    title: str = "",
    location: str = "",
    notes: str = "",
    owner: Any = None,
    tags: Sequence[str] = (),
    cadence_days: int | None = None,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    websites: Sequence[str] = (),
    handles: Sequence[str] = (),
) -> Contact:
    """Replace ``contact``'s details and methods with the given ones (a full edit; team unchanged).

    Same errors as ``contact_create``.
    """
    methods = _parse_methods(emails, phones, websites, handles)
    _check_team(contact.team, organization, owner)
    _check_unique_emails(contact.team, methods[Kind.EMAIL], contact)
    contact.first_name = first_name.strip()
    contact.last_name = last_name.strip()
    contact.display_name = _display_name(first_name, last_name, display_name)
    contact.organization = organization
    contact.title = title.strip()
    contact.location = location.strip()
    contact.notes = notes
    contact.owner = owner
    cadence_changed = contact.cadence_days != cadence_days
    contact.cadence_days = cadence_days
    contact.save(
        update_fields=[
            "first_name",
            "last_name",
            "display_name",
            "organization",
            "title",
            "location",
            "notes",
            "owner",
            "cadence_days",
            "updated_at",
        ]
    )
    _save_methods(contact, methods)
    _set_tags(contact, tags)
    if cadence_changed:
        contact_cadence_refresh(contact=contact)  # restart the keep-in-touch clock
    return contact


def _set_contact_archived(actor: Any, contact: Contact, archived: bool) -> Contact:
    if contact.archived != archived:
        contact.archived = archived
        contact.save(update_fields=["archived", "updated_at"])
        subject = "Contact archived" if archived else "Contact restored from the archive"
        activity_record(contact=contact, kind=Activity.Kind.SYSTEM, actor=actor, subject=subject, source="crm")
    return contact


@transaction.atomic
def contact_archive(*, actor: Any, contact: Contact) -> Contact:
    """Hide ``contact`` from the active lists (nothing is deleted); idempotent."""
    return _set_contact_archived(actor, contact, True)


@transaction.atomic
def contact_unarchive(*, actor: Any, contact: Contact) -> Contact:
    """Bring an archived contact back to the active lists; idempotent."""
    return _set_contact_archived(actor, contact, False)


# --- Organizations -----------------------------------------------------------------------


@transaction.atomic
def organization_create(
    *, actor: Any, team: Team, name: str, domain: str = "", website: str = "", notes: str = ""
) -> Organization:
    """Create an organization in ``team``; the domain is stored lower-cased and IDNA-encoded."""
    return Organization.objects.create(
        team=team,
        name=name.strip(),
        domain=normalize_domain(domain) if domain.strip() else "",
        website=website.strip(),
        notes=notes,
    )


@transaction.atomic
def organization_update(
    *, actor: Any, organization: Organization, name: str, domain: str = "", website: str = "", notes: str = ""
) -> Organization:
    """Replace ``organization``'s details (its team is unchanged)."""
    organization.name = name.strip()
    organization.domain = normalize_domain(domain) if domain.strip() else ""
    organization.website = website.strip()
    organization.notes = notes
    organization.save(update_fields=["name", "domain", "website", "notes", "updated_at"])
    return organization


def _set_organization_archived(organization: Organization, archived: bool) -> Organization:
    if organization.archived != archived:
        organization.archived = archived
        organization.save(update_fields=["archived", "updated_at"])
    return organization


@transaction.atomic
def organization_archive(*, actor: Any, organization: Organization) -> Organization:
    """Hide ``organization`` from pickers and the active list; its people keep it. Idempotent."""
    return _set_organization_archived(organization, True)


@transaction.atomic
def organization_unarchive(*, actor: Any, organization: Organization) -> Organization:
    """Bring an archived organization back; idempotent."""
    return _set_organization_archived(organization, False)


# --- Saved views of the contact list -----------------------------------------------------


@transaction.atomic
def saved_view_save(*, actor: Any, name: str, query: str) -> SavedView:
    """Save the list filters ``query`` under ``name`` for ``actor``; the same name replaces it."""
    view, _ = SavedView.objects.update_or_create(user=actor, name=name.strip(), defaults={"query": query})
    return view


@transaction.atomic
def saved_view_delete(*, actor: Any, view: SavedView) -> None:
    """Delete one of ``actor``'s saved views."""
    if view.user_id != actor.pk:
        raise PermissionDenied("That saved view is someone else's.")
    view.delete()
