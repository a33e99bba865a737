"""`shipyard fleet status` and `fleet update` over several generated projects (real git, real copier)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, shipyard
from template_fixtures import generate, tagged_template


@pytest.fixture()
def fleet(tmp_path: Path) -> tuple[Path, list[Path]]:
    template = tagged_template(tmp_path / "template")
    projects = [generate(template, tmp_path / f"p{i}", conflict=(i == 2)) for i in range(5)]
    return template, projects


def test_status_shows_versions_modified_files_and_conflicts(fleet, tmp_path):
    _, projects = fleet
    listing = tmp_path / "projects.txt"
    listing.write_text("# the team's projects\n" + "\n".join(p.name for p in projects[1:]) + "\n", encoding="utf-8")
    done = shipyard("fleet", "status", projects[0], "--from", listing, "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["projects"]
    assert [Path(r["path"]).name for r in rows] == [p.name for p in projects]
    assert all(r["version"] == "v1" and r["latest"] == "v2" and r["behind"] for r in rows)
    assert all(not r["base"] and r["modified"] == [] for r in rows)  # plain copier copy: no base recorded yet

    # after an update of one project (with its conflict left in), status sees both
    assert shipyard("update", projects[2], "--yes").returncode == 9
    git(projects[2], "commit", "-q", "-am", "update with a conflict left in")
    after = {Path(r["path"]).name: r for r in json.loads(shipyard("fleet", "status", *projects, "--json").stdout)[
        "projects"]}
    p2 = after["p2"]
    assert p2["version"] == "v2" and not p2["behind"] and p2["base"]
    assert p2["conflicts"] == ["same_line.txt"]
    assert set(p2["modified"]) == {"same_line.txt", "edit_elsewhere.txt", "new_name.txt"}
    table = shipyard("fleet", "status", *projects)
    assert table.returncode == 0 and "4 behind" in table.stdout and "1 with conflicts" in table.stdout


def test_update_puts_each_project_on_a_branch_and_reports_each_outcome(fleet, tmp_path):
    _, projects = fleet
    (projects[4] / "notes.md").write_text("uncommitted\n", encoding="utf-8")  # this one must fail, untouched
    heads = {p.name: git(p, "rev-parse", "HEAD").strip() for p in projects}
    done = shipyard("fleet", "update", *projects, "--json", "--jobs", "3")
    assert done.returncode == 10, done.stderr
    outcomes = {Path(o["path"]).name: o for o in json.loads(done.stdout)["projects"]}
    assert {n: o["result"] for n, o in outcomes.items()} == {
        "p0": "applied", "p1": "applied", "p2": "conflicts", "p3": "applied", "p4": "failed"}
    assert outcomes["p2"]["conflicts"] == ["same_line.txt"]
    assert "uncommitted" in outcomes["p4"]["reason"]
    assert "[5/5]" in done.stderr  # progress on stderr
    for project in projects:
        # still on the user's branch, at the same commit; the update lives on its own branch
        assert git(project, "branch", "--show-current").strip() == "main"
        assert git(project, "rev-parse", "HEAD").strip() == heads[project.name]
    for name in ("p0", "p1", "p2", "p3"):
        project = tmp_path / name
        assert outcomes[name]["branch"] == "shipyard/update-v2"
        shown = git(project, "show", "shipyard/update-v2:.copier-answers.yml")
        assert "_commit: v2" in shown
        assert git(project, "status", "--porcelain") == ""
    assert "<<<<<<< yours" in git(tmp_path / "p2", "show", "shipyard/update-v2:same_line.txt")
    assert git(tmp_path / "p4", "branch", "--list", "shipyard/*") == ""
    assert (tmp_path / "p4" / "notes.md").read_text(encoding="utf-8") == "uncommitted\n"
