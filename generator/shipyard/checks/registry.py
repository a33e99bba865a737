"""What a check is, and the registry that holds them (built-in and from plugins).

A check is a small function decorated with :func:`check`. Its docstring's first line says what it checks;
its parameters name the inputs it needs (see :mod:`shipyard.checks.inputs`), which the runner computes once
per audit and hands over by name. It returns an :class:`Outcome`: pass, partial, fail or not applicable,
a message that says how to fix it, and the evidence (files and lines) it looked at.

Other packages add checks through the ``shipyard.checks`` entry-point group: the entry point names a module
(whose :func:`check`-decorated functions register when it is imported) or a callable returning checks.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..facts import Evidence

ENTRY_POINT_GROUP = "shipyard.checks"

# The families, in report order. The four ML Test Score sections come first (Breck et al., 2017).
ML_TEST_SCORE = ("data", "model", "infrastructure", "monitoring")
FAMILIES = (*ML_TEST_SCORE, "governance", "delivery")
FAMILY_TITLES = {
    "data": "Data (features and data)",
    "model": "Model development",
    "infrastructure": "ML infrastructure",
    "monitoring": "Monitoring",
    "governance": "Governance",
    "delivery": "Delivery",
}


class Result(str, Enum):
    PASS = "pass"  # ML Test Score: automated (runs in CI, on a schedule, or on every request)
    PARTIAL = "partial"  # ML Test Score: done by hand, an artifact shows the test exists
    FAIL = "fail"
    NOT_APPLICABLE = "n/a"


SCORE = {Result.PASS: 1.0, Result.PARTIAL: 0.5, Result.FAIL: 0.0, Result.NOT_APPLICABLE: None}


@dataclass(frozen=True, kw_only=True)
class Outcome:
    result: Result
    message: str  # what was found and, unless it passed, how to fix it
    evidence: tuple[Evidence, ...] = ()
    fix: str = ""  # the Shipyard command or template piece that fixes it, when there is one


def passed(message: str, *evidence: Evidence | None) -> Outcome:
    return Outcome(result=Result.PASS, message=message, evidence=_ev(evidence))


def partial(message: str, *evidence: Evidence | None, fix: str = "") -> Outcome:
    return Outcome(result=Result.PARTIAL, message=message, evidence=_ev(evidence), fix=fix)


def failed(message: str, *evidence: Evidence | None, fix: str = "") -> Outcome:
    return Outcome(result=Result.FAIL, message=message, evidence=_ev(evidence), fix=fix)


def not_applicable(message: str, *evidence: Evidence | None) -> Outcome:
    return Outcome(result=Result.NOT_APPLICABLE, message=message, evidence=_ev(evidence))


def _ev(items: Iterable[Evidence | None]) -> tuple[Evidence, ...]:
    seen: list[Evidence] = []
    for item in items:
        if item is not None and item not in seen:
            seen.append(item)
    return tuple(seen)


@dataclass(frozen=True, kw_only=True)
class Check:
    id: str  # stable, kebab-case with the family prefix: "data-1", "gov-owners"
    family: str
    title: str  # one line: the question it answers
    func: Callable[..., Outcome] = field(repr=False)
    url: str = ""  # where to read more (docs page anchor)
    origin: str = "shipyard"  # the distribution that registered it

    @property
    def description(self) -> str:
        doc = inspect.getdoc(self.func) or self.title
        return doc.strip().splitlines()[0]

    @property
    def details(self) -> str:
        doc = inspect.getdoc(self.func) or ""
        return "\n".join(doc.strip().splitlines()[1:]).strip()

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.func).parameters)


_REGISTRY: dict[str, Check] = {}


def check(id: str, *, family: str, title: str, url: str = "") -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    """Register the decorated function as a check (a plugin uses this too)."""

    def register(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
        origin = "shipyard" if func.__module__.startswith("shipyard.") else func.__module__.split(".")[0]
        _add(Check(id=id, family=family, title=title, func=func, url=url, origin=origin))
        return func

    return register


def _add(item: Check) -> None:
    known = _REGISTRY.get(item.id)
    if known is not None and known.func is not item.func:
        raise ValueError(f"check id {item.id} is registered twice ({known.origin} and {item.origin})")
    _REGISTRY[item.id] = item


def builtin() -> None:
    """Import the built-in check modules (registration happens on import)."""
    from . import delivery, governance, mltest_data, mltest_infra, mltest_model, mltest_monitoring  # noqa: F401


@dataclass(frozen=True, kw_only=True)
class PluginError:
    name: str
    message: str


_PLUGINS: list[PluginError] | None = None


def load_plugins() -> list[PluginError]:
    """Load every ``shipyard.checks`` entry point once per process; a broken plugin is reported, not fatal."""
    global _PLUGINS
    if _PLUGINS is None:
        _PLUGINS = _load_plugins()
    return _PLUGINS


def _load_plugins() -> list[PluginError]:
    from importlib.metadata import entry_points

    errors: list[PluginError] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded: Any = ep.load()
            if callable(loaded) and not isinstance(loaded, type) and not inspect.ismodule(loaded):
                provided = loaded()
                for item in provided or ():
                    if not isinstance(item, Check):
                        raise TypeError(f"{ep.value} returned {type(item).__name__}, not a Check")
                    _add(item)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the audit
            errors.append(PluginError(name=ep.name, message=f"{type(exc).__name__}: {exc}"[:300]))
    return errors


def all_checks(*, plugins: bool = True) -> tuple[tuple[Check, ...], list[PluginError]]:
    builtin()
    errors = load_plugins() if plugins else []
    order = {f: i for i, f in enumerate(FAMILIES)}
    items = sorted(_REGISTRY.values(), key=lambda c: (order.get(c.family, len(order)), c.family))
    if not plugins:
        items = [c for c in items if c.origin == "shipyard"]
    return tuple(items), errors

