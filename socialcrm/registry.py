"""Plug points the apps fill in ``AppConfig.ready()``.

``socialcrm`` knows nothing of the apps built on it; they register their navigation
entries and demo data here instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialcrm.models import Team, User


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    visible_to: Callable[[Any], bool]
    order: int = 100


@dataclass
class DemoContext:
    """What demo loaders get: the demo accounts and team, and a way to report progress."""

    team: Team
    sales: User
    manager: User
    dpo: User
    admin: User
    say: Callable[[str], None]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoLoader:
    name: str
    load: Callable[[DemoContext], None]
    order: int = 100


@dataclass(frozen=True)
class HomeSection:
    """A section of the home page for the users ``visible_to`` accepts.

    ``render(request)`` returns safe HTML (a rendered template), or "" to show nothing.
    """

    name: str
    render: Callable[[Any], str]
    visible_to: Callable[[Any], bool]
    order: int = 100


_nav_items: list[NavItem] = []
_demo_loaders: list[DemoLoader] = []
_home_sections: dict[str, HomeSection] = {}


def register_nav_item(item: NavItem) -> None:
    if all(existing.url_name != item.url_name for existing in _nav_items):
        _nav_items.append(item)


def nav_items() -> list[NavItem]:
    return sorted(_nav_items, key=lambda item: item.order)


def register_demo_loader(loader: DemoLoader) -> None:
    if all(existing.name != loader.name for existing in _demo_loaders):
        _demo_loaders.append(loader)


def demo_loaders() -> list[DemoLoader]:
    return sorted(_demo_loaders, key=lambda loader: loader.order)


def register_home_section(section: HomeSection) -> None:
    _home_sections[section.name] = section


def home_sections() -> list[HomeSection]:
    return sorted(_home_sections.values(), key=lambda section: section.order)
