"""Hardening cases (issue "Hardening: hostile templates, broken inputs and faults"), each test named after its
case. Cases tested elsewhere keep their tests there; this module holds the ones that have no better home."""

from __future__ import annotations

import tomllib
import yaml
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.version import Version

# Releases of copier with the advisories of 2025-2026 that Shipyard's safety leans on.
VULNERABLE = ["9.9.0", "9.11.1", "9.14.0", "9.15.1", "9.17.1"]


def test_case_04_copier_is_required_at_a_release_with_the_path_and_trust_fixes() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (copier,) = [Requirement(d) for d in deps if Requirement(d).name == "copier"]
    assert not any(copier.specifier.contains(v) for v in VULNERABLE), copier
    assert copier.specifier.contains("9.18.1") and copier.specifier.contains("9.19.1")
    # a user's plain `copier update` of a generated project is held to the same floor
    template = yaml.safe_load((ROOT / "templates/production/copier.yml").read_text())
    assert Version(template["_min_copier_version"]) >= Version("9.18.1")
    import copier

    assert Version(copier.__version__) >= Version("9.18.1")
