"""The production template's own runtime modules, loaded by Shipyard itself.

Adoption and the generated project must never disagree about how the data reads or what the
contract's rules mean, so Shipyard does not keep copies of that code: it imports the template's
`tables.py` and `contract.py` (plain modules that need no rendering and no project settings) from
the built-in template as the package ``_shipyard_runtime``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

PACKAGE = "_shipyard_runtime"
#: Runtime modules that can be loaded outside a rendered project (no settings, no Jinja).
STANDALONE = frozenset({"errors", "tables", "contract", "rules", "dataset_checks"})


def module(name: str) -> Any:
    """The template runtime module ``name`` (``"tables"``, ``"contract"``, ...), imported once."""
    if name not in STANDALONE:
        raise ValueError(f"{name} is not a standalone runtime module")
    if PACKAGE not in sys.modules:
        from .render import builtin_dir

        folder = builtin_dir("production") / "template" / "src" / "{{package_name}}"
        package = types.ModuleType(PACKAGE)
        package.__path__ = [str(folder)]  # the loader finds the submodules there
        package.__package__ = PACKAGE
        sys.modules[PACKAGE] = package
    return importlib.import_module(f"{PACKAGE}.{name}")
