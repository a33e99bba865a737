"""Patterns and small lookups the built-in checks share (so each check stays a few lines)."""

from __future__ import annotations

import re

from ..facts import Evidence
from .inputs import Repo, Workflow, YamlDoc, first, in_ci, is_placeholder


def cmd(*names: str) -> str:
    """A generated project's command (``python -m <package> train``), any package name."""
    return rf"python3?\s+-m\s+[A-Za-z_][\w.]*\s+(?:{'|'.join(names)})\b"


PYTEST = r"\bpytest\b|\btox\b|\bnox\b|make\s+test\b"
CONTRACT_CHECK = cmd("check-data") + r"|datacontract\s+test|great_expectations|\bgx\s+checkpoint|pandera"
DOCS = "docs/"


def source_code(repo: Repo) -> list[str]:
    """The project's Python modules that are not tests (what runs in production)."""
    tests = set(repo.tests)
    return [p for p in repo.python if p not in tests]


def ci_tests(flows: list[Workflow]) -> Evidence | None:
    return in_ci(flows, PYTEST, scheduled=False)


def owner_ok(doc: YamlDoc | None, *keys: object) -> tuple[bool, Evidence | None]:
    """Whether the value at ``keys`` of OWNERSHIP.yaml is real (not a TODO), with where it is."""
    if doc is None:
        return False, None
    value = doc.get(*keys)
    return (not is_placeholder(value)), doc.evidence(*keys)


def ownership_missing() -> str:
    return "no OWNERSHIP.yaml"


OWNERSHIP_FIX = "shipyard adopt writes OWNERSHIP.yaml; fill in its TODO fields"


def search_all(repo: Repo, paths: list[str], pattern: str, flags: int = re.I) -> Evidence | None:
    rx = re.compile(pattern, flags)
    return first(repo.find(p, rx) for p in paths)


def section(repo: Repo, ev: Evidence | None) -> str:
    """The text under the Markdown heading at ``ev`` (up to the next heading)."""
    if ev is None or ev.line is None:
        return ""
    lines = (repo.text(ev.path) or "").splitlines()[ev.line:]
    out = []
    for line in lines:
        if line.startswith("#"):
            break
        out.append(line)
    return "\n".join(out)


def filled_section(repo: Repo, rel: str, heading: str) -> Evidence | None:
    """A Markdown heading matching ``heading`` in ``rel`` whose section has text and no TODO."""
    if not repo.exists(rel):
        return None
    ev = repo.find(rel, rf"(?im)^#+[^\n]*({heading})")
    body = section(repo, ev)
    if ev is None or not body.strip() or re.search(r"TODO|TBD", body):
        return None
    return ev
