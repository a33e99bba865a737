"""Bad input gets a clear one-line error and a non-zero exit, and the repo is left as it was."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import inspect_fixtures as fx
import pytest
import shipyard.apply as apply_mod
from conftest import adopt_json, copy_example, make_repo, shipyard, snapshot
from shipyard.adopt import AdoptOptions, adopt
from shipyard.errors import ApplyError


def codes(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for w in report["warnings"]:
        out.setdefault(w["code"], []).append(w)
    return out


def test_not_a_git_repo_is_refused_and_untouched(tmp_path: Path) -> None:
    root = fx.sklearn_classic_repo(tmp_path)
    before = snapshot(root)
    done = shipyard("adopt", root, "--yes")
    assert done.returncode == 3 and "not a git repository" in done.stderr
    assert snapshot(root) == before


def test_dirty_tree_is_refused_with_the_reason_then_allowed(tmp_path: Path) -> None:
    root = make_repo(fx.sklearn_classic_repo(tmp_path))
    (root / "notes.txt").write_text("work in progress\n")
    before = snapshot(root)
    done = shipyard("adopt", root, "--yes")
    assert done.returncode == 3
    assert "uncommitted changes (notes.txt)" in done.stderr and "--allow-dirty" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert snapshot(root) == before
    report = adopt_json(root, "--allow-dirty")
    assert report["applied"] and "dirty-tree" in codes(report)


def test_no_notebooks_is_an_error_naming_the_folder(tmp_path: Path) -> None:
    root = make_repo(fx.no_notebooks_repo(tmp_path))
    before = snapshot(root)
    done = shipyard("adopt", root, "--yes")
    assert done.returncode == 4 and "no notebooks found" in done.stderr and str(root) in done.stderr
    assert snapshot(root) == before


def test_missing_flag_file_is_an_error_naming_it(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "ex")
    done = shipyard("adopt", root, "--yes", "--data", "data/nope.csv")
    assert done.returncode == 4 and "data/nope.csv" in done.stderr


def test_malformed_notebooks_are_reported_and_the_others_processed(tmp_path: Path) -> None:
    root = make_repo(fx.malformed_repo(tmp_path))
    before = snapshot(root)
    report = adopt_json(root)
    unreadable = {w["path"] for w in codes(report)["notebook-unreadable"]}
    assert unreadable == {"broken.ipynb", "latin.ipynb", "not_a_notebook.ipynb"}
    assert report["notebooks"] == ["good.ipynb"]
    assert all(snapshot(root)[k] == v for k, v in before.items())
    assert "broken.ipynb" in (root / "ADOPTION.md").read_text(encoding="utf-8")


def test_notebook_with_tens_of_mb_of_outputs(tmp_path: Path) -> None:
    root = make_repo(fx.huge_output_repo(tmp_path, megabytes=20))
    report = adopt_json(root)
    assert report["model"]["variable"] == "clf"
    module = (root / "src/huge/from_notebook.py").read_text(encoding="utf-8")
    assert len(module) < 10_000 and "clf.fit" in module  # outputs never reach the module


def test_non_utf8_data_and_non_ascii_columns(tmp_path: Path) -> None:
    root = make_repo(fx.non_utf8_csv_repo(tmp_path))
    report = adopt_json(root)
    assert report["target"]["value"] == "preço" and report["task"] == "regression"
    contract = (root / "contracts/vendas.odcs.yaml").read_text(encoding="utf-8")
    assert "name: preço" in contract and "name: área" in contract


def test_names_with_spaces_ampersands_non_ascii_and_read_only_files(tmp_path: Path) -> None:
    root = make_repo(fx.odd_names_repo(tmp_path))
    (root / "README.md").write_text("mine\n")
    (root / "README.md").chmod(0o444)
    make_repo_commit = snapshot(root)
    from conftest import git

    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "readme")
    report = adopt_json(root)
    assert report["notebook"]["value"] == "my notebooks/Section 1-2 - Análise & Modelo.ipynb"
    assert report["data"]["value"] == "dados/Preços & vendas-.csv"
    assert report["package"] == "odd_names_c"
    assert "README.md" in report["files"]["conflict"]
    after = snapshot(root)
    assert all(after[k] == v for k, v in make_repo_commit.items())
    assert oct((root / "README.md").stat().st_mode & 0o777) == "0o444"
    module = (root / "src/odd_names_c/from_notebook.py").read_text(encoding="utf-8")
    assert "'dados/Preços & vendas-.csv'" in module


@pytest.mark.parametrize("after", [0, 7, 20])
def test_interrupted_half_way_leaves_the_repo_exactly_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                after: int) -> None:
    root = copy_example(tmp_path / "ex")
    before = snapshot(root)
    dirs = sorted(p for p in root.rglob("*") if p.is_dir() and ".git" not in p.parts)
    real = apply_mod._replace
    count = {"n": 0}

    def interrupting(src: object, dst: object) -> None:
        if count["n"] == after:
            os.kill(os.getpid(), signal.SIGTERM)  # a real signal, as `kill` or a CI timeout sends
        count["n"] += 1
        real(src, dst)

    monkeypatch.setattr(apply_mod, "_replace", interrupting)
    with pytest.raises(ApplyError, match="interrupted; every change was rolled back"):
        adopt(AdoptOptions(path=root, force=("README.md",)))
    assert snapshot(root) == before
    assert sorted(p for p in root.rglob("*") if p.is_dir() and ".git" not in p.parts) == dirs


def test_dry_run_on_a_dirty_tree_previews_and_says_a_real_run_needs_a_commit(tmp_path: Path) -> None:
    root = make_repo(fx.sklearn_classic_repo(tmp_path))
    (root / "notes.txt").write_text("wip\n")
    before = snapshot(root)
    report = adopt_json(root, "--dry-run")
    dirty = [w for w in report["warnings"] if w["code"] == "dirty-tree"]
    assert dirty and "--allow-dirty" in dirty[0]["message"] and dirty[0]["severity"] == "warning"
    assert snapshot(root) == before


KILLER = """
import os, signal, sys
import shipyard.apply as apply_mod
real, count = apply_mod._replace, {"n": 0}
def dying(src, dst):
    if count["n"] == int(os.environ["KILL_AFTER"]):
        os.kill(os.getpid(), signal.SIGKILL)  # cannot be caught: no rollback runs
    count["n"] += 1
    real(src, dst)
apply_mod._replace = dying
from shipyard.cli import main
sys.argv = ["shipyard", "adopt", sys.argv[1], "--yes", "--force", "README.md"]
main()
"""


def test_a_killed_run_is_undone_by_the_next_run(tmp_path: Path) -> None:
    import subprocess
    import sys

    from conftest import ROOT

    root = copy_example(tmp_path / "ex")
    before = snapshot(root)
    dirs_before = sorted(p for p in root.rglob("*") if p.is_dir() and ".git" not in p.parts)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "generator"), "KILL_AFTER": "9"}
    done = subprocess.run([sys.executable, "-c", KILLER, str(root)], env=env, capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL
    left = snapshot(root)
    assert left != before  # the kill left files behind, as a power cut would

    preview = adopt_json(root, "--dry-run")
    assert "interrupted-run" in codes(preview)
    assert snapshot(root) == left  # a dry run does not clean up

    from shipyard.adopt import recover_interrupted
    from shipyard.apply import pending_recovery

    assert pending_recovery(root)
    recover_interrupted(root)
    assert snapshot(root) == before
    assert not pending_recovery(root)
    assert sorted(p for p in root.rglob("*") if p.is_dir() and ".git" not in p.parts) == dirs_before


def test_the_next_real_run_recovers_first_then_adopts(tmp_path: Path) -> None:
    import subprocess
    import sys

    from conftest import ROOT

    root = copy_example(tmp_path / "ex")
    original_readme = (root / "README.md").read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "generator"), "KILL_AFTER": "3"}
    subprocess.run([sys.executable, "-c", KILLER, str(root)], env=env, capture_output=True)
    report = adopt_json(root)
    assert "interrupted-run" in codes(report) and report["applied"]
    assert (root / "README.md").read_bytes() == original_readme  # the killed --force was undone
    assert not list(root.rglob("*.shipyard-tmp-*"))


def test_recovery_never_touches_what_was_committed_since(tmp_path: Path) -> None:
    import subprocess
    import sys

    from conftest import ROOT, git
    from shipyard.adopt import recover_interrupted

    root = copy_example(tmp_path / "ex")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "generator"), "KILL_AFTER": "10"}
    subprocess.run([sys.executable, "-c", KILLER, str(root)], env=env, capture_output=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "I keep what the killed run wrote")
    committed = snapshot(root)
    assert recover_interrupted(root) == []
    assert snapshot(root) == committed and git(root, "status", "--porcelain") == ""


@pytest.mark.parametrize(("flag_value", "message"), [
    ("notebooks/02 - churn model.ipynb", "is not a data file"),
    ("../elsewhere.csv", "is outside the repository"),
])
def test_data_flag_must_be_a_data_file_inside_the_repo(tmp_path: Path, flag_value: str, message: str) -> None:
    root = copy_example(tmp_path / "ex")
    (tmp_path / "elsewhere.csv").write_text("a,b\n1,2\n")
    done = shipyard("adopt", root, "--dry-run", "--data", flag_value)
    assert done.returncode == 4 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_data_flag_refuses_a_symlink_out_of_the_repo(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "ex")
    (tmp_path / "secret.csv").write_text("secret_token,y\nabc,1\n")
    (root / "data" / "link.csv").symlink_to(tmp_path / "secret.csv")
    done = shipyard("adopt", root, "--dry-run", "--data", "data/link.csv")
    assert done.returncode == 4 and "outside the repository" in done.stderr
    assert "secret_token" not in done.stdout
