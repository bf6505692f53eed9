"""The contacts app's own personal data: export and erasure of a contact's record.

Registered as a personal-data holder in ``ContactsConfig.ready()``; erasure (driven by
the consent app's data-subject requests) walks every holder, this one last, because
deleting the contact row removes what hangs off it.
"""

from __future__ import annotations

from typing import Any

from contacts.models import Activity, Contact, ContactMethod


def export_contact(contact: Contact) -> dict[str, Any]:
    """Everything the contacts app holds about ``contact``, JSON-safe."""
    return {
        "contact": {
            "id": contact.pk,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "display_name": contact.display_name,
            "organization": contact.organization.name if contact.organization_id else None,  # type: ignore[union-attr]
            "title": contact.title,
            "location": contact.location,
            "notes": contact.notes,
            "tags": sorted(contact.tags.values_list("name", flat=True)),
            "created_at": contact.created_at.isoformat(),
            "updated_at": contact.updated_at.isoformat(),
        },
        "contact_methods": [
            {"kind": method.kind, "value": method.value, "label": method.label, "is_primary": method.is_primary}
            for method in contact.methods.all()
        ],
        "timeline": [
            {
                "occurred_at": activity.occurred_at.isoformat(),
                "kind": activity.kind,
                "direction": activity.direction,
                "subject": activity.subject,
                "body": activity.body,
                "source": activity.source,
            }
            for activity in contact.activities.order_by("occurred_at", "id").iterator()
        ],
    }


def erase_contact(contact: Contact) -> None:
    """Delete the contact with its methods and timeline (cascading foreign keys)."""
    Contact.objects.filter(pk=contact.pk).delete()


PERSONAL_DATA_MODELS = (Contact, ContactMethod, Activity)
