"""Plug points for the apps built on contacts (enrichment, consent).

``contacts`` imports neither of them. They register here in ``AppConfig.ready()``:

- personal-data holders: every model that stores personal data about a contact is
  covered by one holder's ``export`` and ``erase`` (erasure walks this registry; a test
  fails if a model with a ForeignKey to Contact is not covered);
- contact panels: boxes in the right-hand column of the contact page;
- the processing gate: the one function that says whether a contact's data may be
  processed for a purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpRequest

    from contacts.models import Contact


@dataclass(frozen=True)
class PersonalDataHolder:
    """Exports and erases one app's personal data about a contact.

    ``models`` lists the models it covers; ``export`` returns JSON-safe data;
    ``erase`` deletes or anonymizes everything it covers, inside the caller's transaction.
    """

    name: str
    models: tuple[type[Model], ...]
    export: Callable[[Contact], Any]
    erase: Callable[[Contact], None]


@dataclass(frozen=True)
class ContactPanel:
    """A panel on the contact page. ``render`` returns safe HTML (a rendered template)."""

    name: str
    render: Callable[[HttpRequest, Contact], str]
    order: int = 100


class Decision(Protocol):
    allowed: bool
    reason: str


_holders: dict[str, PersonalDataHolder] = {}
_panels: dict[str, ContactPanel] = {}
_gate: list[Callable[[Contact, str], Decision]] = []


def register_personal_data_holder(holder: PersonalDataHolder) -> None:
    _holders[holder.name] = holder


def personal_data_holders() -> list[PersonalDataHolder]:
    return list(_holders.values())


def register_contact_panel(panel: ContactPanel) -> None:
    _panels[panel.name] = panel


def contact_panels() -> list[ContactPanel]:
    return sorted(_panels.values(), key=lambda panel: panel.order)


def register_gate(gate: Callable[[Contact, str], Decision]) -> None:
    _gate[:] = [gate]


def gate_allows(contact: Contact, purpose: str) -> Decision:
    """Ask the registered processing gate (the consent app's) about ``purpose``."""
    if not _gate:
        raise RuntimeError("No processing gate is registered; the consent app must be installed.")
    return _gate[0](contact, purpose)
