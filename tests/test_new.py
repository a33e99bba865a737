"""`shipyard new NAME`: a fresh project from a template, committed and ready for `update`."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git, shipyard, snapshot
from template_fixtures import tagged_template, write


def test_new_makes_a_committed_project_that_update_knows(tmp_path):
    done = shipyard("new", "churn-model", "--owner", "ana@example.org", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    root = tmp_path / "churn-model"
    assert report["root"] == str(root) and report["committed"] and report["template"] == "production"
    assert git(root, "status", "--porcelain") == ""
    assert (root / "src" / "churn_model" / "train.py").is_file()
    assert "ana@example.org" in (root / "OWNERSHIP.yaml").read_text(encoding="utf-8")
    preview = json.loads(shipyard("update", root, "--dry-run", "--json", check=True).stdout)
    assert preview["base"] == "recorded" and preview["writes"] == []


def test_new_from_a_git_template_then_update_to_its_next_tag(tmp_path):
    template = tagged_template(tmp_path / "tpl")
    done = shipyard("new", "demo", "--template", f"{template}@v1", "--set", "name=Demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "demo"
    assert (root / "README.md").read_text(encoding="utf-8") == "# Demo\n"
    updated = shipyard("update", root, "--yes", "--json")
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["to_version"] == "v2" and (root / "added.txt").is_file()


def test_new_refuses_a_folder_that_is_not_empty_and_leaves_nothing_on_failure(tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("mine\n", encoding="utf-8")
    before = snapshot(taken)
    done = shipyard("new", "taken", cwd=tmp_path)
    assert done.returncode == 2 and "not empty" in done.stderr
    assert snapshot(taken) == before

    template = tagged_template(tmp_path / "tpl")
    write(template, {"template/broken.txt.jinja": "{{ name | no_such_filter }}\n"})
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "broken")
    failed = shipyard("new", "broken", "--template", f"{template}@HEAD", cwd=tmp_path)
    assert failed.returncode == 6 and "no_such_filter" in failed.stderr
    assert not (tmp_path / "broken").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken", "tpl"]
    assert Path(tmp_path / "taken" / "mine.txt").read_text(encoding="utf-8") == "mine\n"


def test_without_a_git_identity_the_files_are_left_for_you_to_commit(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(tmp_path / "home"), GIT_CONFIG_NOSYSTEM="1", PYTHONPATH=str(ROOT / "generator"))
    done = subprocess.run([sys.executable, "-m", "shipyard", "new", "anon"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "commit them: git add -A" in done.stdout
    status = subprocess.run(["git", "-C", str(tmp_path / "anon"), "status", "--porcelain"], capture_output=True,
                            text=True, env=env).stdout
    assert "?? " in status  # nothing committed in somebody else's name
