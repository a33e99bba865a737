"""The pages that list the checks are generated from the registry, and are current."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_every_check_page_is_generated_from_the_registry_and_current() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_doctor_docs.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from shipyard.checks.registry import all_checks

    page = (ROOT / "docs" / "doctor-checks.md").read_text(encoding="utf-8")
    for item in all_checks(plugins=False)[0]:
        assert f"### `{item.id}`: {item.title} {{#{item.id}}}" in page
        assert item.description in page
