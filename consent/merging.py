"""Merging contacts: a consent history cannot move to another contact, so such a merge is refused.

The ledger is append-only evidence of what one person agreed to, objected to or withdrew,
and when; re-pointing it at another contact would rewrite that evidence (and the trigger
refuses it on PostgreSQL). Registered as a ``MergeHook`` for the ledger and its derived
state, so the merge screen explains the refusal instead of reporting a failed update.
"""

from __future__ import annotations

from consent.models import ConsentEvent
from contacts.models import Contact
from contacts.services.merge import MergeError

REFUSAL = (
    "Consent histories cannot be combined: {name} has a consent history, and a consent history is "
    "append-only evidence of what that person agreed to and when, so it cannot move to another "
    "contact. Nothing was merged. Merge the other way round (keep {name}) if only this contact has a "
    "history; if both have one, keep both contacts."
)


def refuse_merging_a_consent_history(survivor: Contact, merged: Contact) -> None:
    """Raise MergeError when the contact merged away has consent events (the survivor keeps its own)."""
    if ConsentEvent.objects.filter(contact=merged).exists():
        raise MergeError(REFUSAL.format(name=merged.display_name))
