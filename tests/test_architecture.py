"""The architecture's rules (ARCHITECTURE.md, STYLE.md), checked on the source.

1. Dependencies point one way: socialcrm <- contacts <- enrichment, consent.
2. Views reach protected rows only through access functions and selectors.
3. Every model with a ForeignKey to Contact is covered by a personal-data holder, so
   erasure and export (which walk the holder registry) cannot forget it.
4. Role checks live in socialcrm/roles.py: no other code reads ``user.is_superuser``.

Each checker is also run on a small sample, so a checker that silently finds nothing fails.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from tests.processes import BASE_DIR

APPS = sorted(path.parent.name for path in BASE_DIR.glob("*/apps.py"))


def python_files(package: str) -> list[Path]:
    return sorted((BASE_DIR / package).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(BASE_DIR).as_posix()


# --- 1. dependency direction ------------------------------------------------------------------


def imported_modules(source: str) -> set[str]:
    """Absolute module names imported by ``source``, including under TYPE_CHECKING and
    through ``importlib.import_module("...")`` with a literal name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            # "from x import y" may import the module x.y.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def forbidden_imports(package: str, forbidden: set[str], exempt: Collection[str] = ()) -> list[str]:
    return [
        f"{relative(path)} imports {module}"
        for path in python_files(package)
        if relative(path) not in exempt
        for module in sorted(imported_modules(path.read_text(encoding="utf-8")))
        if module.split(".")[0] in forbidden
    ]


def test_import_checker_sees_every_form_of_import() -> None:
    sample = (
        "import consent.models\n"
        "from enrichment import tasks\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from consent.gate import allows\n"
        "importlib.import_module('enrichment.providers')\n"
        "from . import selectors\n"
    )
    assert {"consent.models", "enrichment", "consent.gate", "enrichment.providers"} <= imported_modules(sample)
    assert "selectors" not in imported_modules(sample)


def test_contacts_imports_neither_enrichment_nor_consent() -> None:
    # They plug into contacts/registry.py from their AppConfig.ready() instead.
    assert forbidden_imports("contacts", {"enrichment", "consent"}) == []


def test_socialcrm_imports_none_of_the_apps_built_on_it() -> None:
    # The root URLconf includes every app's urls, and settings lists them (as strings); apps
    # add navigation and demo data through socialcrm/registry.py.
    exempt = {"socialcrm/urls.py", "socialcrm/settings.py"}
    assert forbidden_imports("socialcrm", {"contacts", "enrichment", "consent"}, exempt) == []


# --- 2. views use access functions and selectors ----------------------------------------------

QUERY_METHODS = {"get", "filter"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}

# Direct queries a view may make, keyed by (file, function, call), each with the reason.
# Keep it short: a protected model needs an access function (`<entity>_get(user=..., ...)`)
# that raises Http404 for rows the user may not see, or a selector that takes the user.
ALLOWED_DIRECT_QUERIES: dict[tuple[str, str, str], str] = {}


def view_files() -> list[Path]:
    candidates = [
        path for app in APPS for path in [BASE_DIR / app / "views.py", *(BASE_DIR / app / "views").rglob("*.py")]
    ]
    return sorted(path for path in candidates if path.exists())


def _scopes(tree: ast.Module) -> Iterator[tuple[str, list[ast.stmt]]]:
    """Statements grouped by the top-level function or method they are in ('<module>' else)."""
    module_level: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, [node]
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{item.name}", [item]
                else:
                    module_level.append(item)
        else:
            module_level.append(node)
    yield "<module>", module_level


def _is_direct_query(func: ast.expr) -> bool:
    """``X.objects.get(...)``, also after other queryset calls (``X.objects.select_related().get``)."""
    if isinstance(func, ast.Attribute) and func.attr in QUERY_METHODS:
        receiver = func.value
        while isinstance(receiver, ast.Call | ast.Attribute):
            if isinstance(receiver, ast.Attribute) and receiver.attr in {"objects", "_default_manager"}:
                return True
            receiver = receiver.func if isinstance(receiver, ast.Call) else receiver.value
        return False
    return ast.unparse(func).split(".")[-1] in SHORTCUTS


def direct_queries(source: str) -> set[tuple[str, str]]:
    """(function, call) for each ``X.objects.get/filter(...)`` or ``get_object_or_404(...)``."""
    return {
        (name, ast.unparse(node.func))
        for name, statements in _scopes(ast.parse(source))
        for statement in statements
        for node in ast.walk(statement)
        if isinstance(node, ast.Call) and _is_direct_query(node.func)
    }


def test_query_checker_finds_direct_queries() -> None:
    sample = (
        "def detail(request, pk):\n"
        "    contact = Contact.objects.get(pk=pk)\n"
        "    rows = models.Activity.objects.filter(contact=contact)\n"
        "    team = Team.objects.select_related('org').only('id').get(pk=1)\n"
        "    other = get_object_or_404(Contact, pk=pk)\n"
        "    return shortcuts.get_list_or_404(rows)\n"
        "class Export(View):\n"
        "    def get(self, request):\n"
        "        return Contact._default_manager.get(pk=1)\n"
        "def fine(request):\n"
        "    return contact_get(user=request.user, pk=1), contact_list(user=request.user).filter(x=1)\n"
    )
    assert direct_queries(sample) == {
        ("detail", "Contact.objects.get"),
        ("detail", "models.Activity.objects.filter"),
        ("detail", "Team.objects.select_related('org').only('id').get"),
        ("detail", "get_object_or_404"),
        ("detail", "shortcuts.get_list_or_404"),
        ("Export.get", "Contact._default_manager.get"),
    }


def test_views_use_access_functions_and_selectors() -> None:
    assert view_files(), "no views found: the checker is looking in the wrong place"
    found = {
        (relative(path), function, call)
        for path in view_files()
        for function, call in direct_queries(path.read_text(encoding="utf-8"))
    }
    unexpected = sorted(found - ALLOWED_DIRECT_QUERIES.keys())
    assert unexpected == [], "views must use an access function or selector instead of these direct queries"
    stale = sorted(ALLOWED_DIRECT_QUERIES.keys() - found)
    assert stale == [], "remove these allow-list entries: the code no longer makes these queries"


# --- 3. personal data of a contact is always covered by a holder --------------------------


def models_pointing_at(target: type[models.Model]) -> set[type[models.Model]]:
    """Concrete models with a ForeignKey or OneToOneField to ``target``.

    Many-to-many through tables that Django creates are left out: they belong to the model
    that declares the ManyToManyField, whose holder covers them.
    """
    return {
        model
        for model in apps.get_models()
        for field in model._meta.get_fields(include_hidden=True)
        if isinstance(field, models.ForeignKey) and field.related_model is target
    }


def test_every_model_with_a_foreign_key_to_contact_is_a_personal_data_holder() -> None:
    try:
        from contacts.models import Contact
    except ImportError:
        pytest.skip("contacts.models.Contact does not exist yet: no personal data to cover")
    from contacts.registry import personal_data_holders

    pointing = models_pointing_at(Contact)
    assert pointing, "Contact exists but no model points at it: the checker is broken"
    covered = {model for holder in personal_data_holders() for model in holder.models}
    missing = sorted(model._meta.label for model in pointing - covered)
    assert missing == [], (
        "register these models with a PersonalDataHolder (contacts/registry.py) from their "
        "app's AppConfig.ready(), so export and erasure cover them"
    )


# --- 4. role checks in one module ----------------------------------------------------------------

# Files that handle the flag itself rather than checking a role with it.
SUPERUSER_FLAG_HANDLERS = {
    "socialcrm/roles.py",  # the one place roles are decided
    "socialcrm/models.py",  # the user manager sets it
    "socialcrm/admin.py",  # the admin edits it
    "socialcrm/demo.py",  # the demo administrator
}


def superuser_checks(source: str) -> list[int]:
    """Line numbers where ``source`` reads an ``is_superuser`` attribute."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr == "is_superuser" and isinstance(node.ctx, ast.Load)
    )


def test_superuser_checker_finds_attribute_reads() -> None:
    assert superuser_checks("if user.is_superuser:\n    pass\nflags = ('is_superuser',)\n") == [1]


def test_role_checks_live_in_the_roles_module() -> None:
    found = [
        f"{relative(path)}:{line}"
        for package in APPS
        for path in python_files(package)
        if "migrations" not in path.parts and relative(path) not in SUPERUSER_FLAG_HANDLERS
        for line in superuser_checks(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "use socialcrm.roles (is_admin, has_role, ...) instead of reading is_superuser"
