"""The scale-out options as a user turns them on: `adopt --set`, or later `update --set` on a committed project.

Off by default (nothing of Kubernetes or Spark in a plain adoption); on, through the real CLI, the files
appear as new, the answers file records the choice, and nothing the user has is touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import adopt_json, copy_example, git, shipyard, snapshot

KUSTOMIZE = ("deploy/kubernetes/base/kustomization.yaml", "deploy/kubernetes/overlays/dev/kustomization.yaml",
             "deploy/kubernetes/overlays/prod/kustomization.yaml")
BATCH = ".github/workflows/batch-score.yml"


def answers(repo: Path) -> dict:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text(encoding="utf-8"))


def test_a_plain_adoption_has_no_kubernetes_and_no_spark_workflow(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "churn")
    adopt_json(repo)
    assert not (repo / "deploy").exists() and not (repo / BATCH).exists()
    assert answers(repo)["kubernetes"] is False and answers(repo)["spark"] is False
    release = (repo / ".github/workflows/release.yml").read_text(encoding="utf-8")
    assert "kustomize" not in release


def test_adopt_set_turns_both_on(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "churn")
    report = adopt_json(repo, "--set", "kubernetes=true", "--set", "spark=true")
    created = set(report["files"]["create"])
    for rel in (*KUSTOMIZE, BATCH):
        assert (repo / rel).is_file() and rel in created, rel
    assert answers(repo)["kubernetes"] is True and answers(repo)["spark"] is True
    assert "kustomize" in (repo / ".github/workflows/release.yml").read_text(encoding="utf-8")


def test_update_set_adds_the_manifests_to_a_committed_project_and_keeps_the_users_edits(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "churn")
    adopt_json(repo)
    readme = repo / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nOur own note on deployment.\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "adopted, with a note")
    before = snapshot(repo)

    preview = shipyard("update", repo, "--dry-run", "--json", "--set", "kubernetes=true")
    assert preview.returncode == 0, preview.stderr
    assert snapshot(repo) == before
    kinds = {f["path"]: f["kind"] for f in json.loads(preview.stdout)["files"]}
    for rel in KUSTOMIZE:
        assert kinds.get(rel) == "new", (rel, kinds.get(rel))
    assert kinds["README.md"] in ("unchanged", "merged", "kept")  # the example had its own README

    done = shipyard("update", repo, "--yes", "--set", "kubernetes=true")
    assert done.returncode == 0, done.stderr
    for rel in KUSTOMIZE:
        assert (repo / rel).is_file(), rel
    assert "Our own note on deployment." in readme.read_text(encoding="utf-8")
    assert answers(repo)["kubernetes"] is True
    changed = {rel for rel, data in snapshot(repo).items() if before.get(rel) != data}
    assert changed - set(before) >= set(KUSTOMIZE)  # the manifests are new files
    # of the files that existed, only the answers file and the release workflow (its Kubernetes job) change
    assert changed & set(before) <= {".copier-answers.yml", ".github/workflows/release.yml", ".dockerignore",
                                     ".gitlab-ci.yml", "README.md"}
