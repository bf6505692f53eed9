"""How to run each processing entry point for one contact, for the gate-consultation test.

Add one probe per function marked ``@processing(purpose=...)``: it calls the entry point
the way production does (a task with the contact's id, an export with a queryset...) for
``contact``. ``test_gate_consultation`` fails for an entry point without a probe, and for
one whose probe ran without the gate being asked about its purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# "module.qualname" of the entry point -> probe(contact).
PROBES: dict[str, Callable[[Any], object]] = {}
