"""Every processing entry point consults the gate.

Two checks, so neither a new entry point nor a known processing module can slip by:

1. dynamic: every function marked ``@processing(purpose=...)`` (contacts.registry) is run
   through its probe (tests/consent/processing_probes.py) and must ask the gate about its
   purpose while it runs;
2. static: the modules that process personal data by design (``PROCESSING_MODULES``) must
   mark every Celery task and public function they define, and ask the gate. A listed
   module that does not exist yet is reported as skipped, so the list says what is pending.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from contacts.registry import ProcessingEntryPoint, gate_allows, gate_consultations, processing_entry_points
from tests.consent.processing_probes import PROBES
from tests.factories import ContactFactory
from tests.processes import BASE_DIR

# Where processing happens (ARCHITECTURE.md "flows"); extend when a new one appears.
PROCESSING_MODULES = {
    "enrichment/tasks.py": "enrichment tasks (enrich_contact and the provider tasks)",
    "enrichment/listening.py": "social listening",
    "contacts/exporting.py": "marketing exports (the formats are in contacts/export_formats.py)",
    "contacts/services/nudges.py": "reminders' outreach nudges",
}
GATE_CALLS = {"gate_allows", "gate_allowed_ids", "allows", "decisions_for", "decisions_for_contact"}
TASK_DECORATORS = {"shared_task", "task"}
APP_PACKAGES = ("socialcrm", "contacts", "enrichment", "consent")


def import_every_app_module() -> None:
    """Import every module of the apps, so every ``@processing`` decorator has run."""
    for package in APP_PACKAGES:
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            relative = path.relative_to(BASE_DIR)
            if "migrations" in relative.parts or "management" in relative.parts:
                continue
            importlib.import_module(".".join(relative.with_suffix("").parts).removesuffix(".__init__"))


def unconsulted(
    entries: Iterable[ProcessingEntryPoint], probes: dict[str, Callable[[Any], object]], contact: Any
) -> list[str]:
    """Entry points without a probe, or whose probe ran without asking the gate about their purpose."""
    problems = []
    for entry in entries:
        probe = probes.get(entry.name)
        if probe is None:
            problems.append(f"{entry.name}: no probe in tests/consent/processing_probes.py")
            continue
        with gate_consultations() as asked:
            probe(contact)
        if entry.purpose not in asked:
            problems.append(f"{entry.name}: ran without asking the gate about {entry.purpose!r} (asked {asked})")
    return problems


def _decorator_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def static_problems(source: str) -> list[str]:
    """What a processing module gets wrong: unmarked tasks/public functions, no gate call."""
    tree = ast.parse(source)
    problems = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        decorators = _decorator_names(node)
        if (decorators & TASK_DECORATORS or not node.name.startswith("_")) and "processing" not in decorators:
            problems.append(f"{node.name} is not marked @processing(purpose=...)")
    called = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    if not called & GATE_CALLS:
        problems.append("never asks the gate (gate_allows / consent.gate.allows / decisions_for)")
    return problems


# --- the checkers catch what they should ----------------------------------------------------


@pytest.mark.django_db
def test_the_dynamic_checker_catches_an_entry_point_that_skips_the_gate(team: Any) -> None:
    def polite(contact: Any) -> None:
        gate_allows(contact, "enrichment")

    def rude(contact: Any) -> None:
        contact.refresh_from_db()

    entries = [
        ProcessingEntryPoint("polite", "enrichment", polite),
        ProcessingEntryPoint("rude", "enrichment", rude),
        ProcessingEntryPoint("unprobed", "enrichment", rude),
    ]
    problems = unconsulted(entries, {"polite": polite, "rude": rude}, ContactFactory(team=team))
    assert [problem.split(":")[0] for problem in problems] == ["rude", "unprobed"]


def test_the_static_checker_catches_unmarked_tasks_and_missing_gate_calls() -> None:
    sample = (
        "@shared_task\ndef enrich(contact_id):\n    fetch(contact_id)\n"
        "@processing(purpose='enrichment')\n@shared_task\ndef marked(contact_id):\n    fetch(contact_id)\n"
        "def _helper():\n    pass\n"
    )
    assert static_problems(sample) == [
        "enrich is not marked @processing(purpose=...)",
        "never asks the gate (gate_allows / consent.gate.allows / decisions_for)",
    ]
    good = (
        "@processing(purpose='enrichment')\ndef run(contact):\n"
        "    if gate_allows(contact, 'enrichment').allowed:\n        pass\n"
    )
    assert static_problems(good) == []


# --- the real code ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_processing_entry_point_consults_the_gate(team: Any) -> None:
    import_every_app_module()
    entries = processing_entry_points()
    assert unconsulted(entries, PROBES, ContactFactory(team=team)) == []
    stale = sorted(set(PROBES) - {entry.name for entry in entries})
    assert stale == [], "remove the probes of entry points that no longer exist"


@pytest.mark.parametrize("path", sorted(PROCESSING_MODULES))
def test_known_processing_modules_mark_their_entry_points_and_ask_the_gate(path: str) -> None:
    module = Path(BASE_DIR / path)
    if not module.exists():
        pytest.skip(f"{PROCESSING_MODULES[path]} ({path}) does not exist yet")
    assert static_problems(module.read_text(encoding="utf-8")) == [], path
