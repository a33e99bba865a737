"""`shipyard adopt` on the bundled example, through the real CLI."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import adopt_json, copy_example, git, shipyard, snapshot

REQUIRED = [
    "pyproject.toml", "Dockerfile", ".dockerignore", "OWNERSHIP.yaml", "CODEOWNERS", "MODEL_CARD.md",
    "ADOPTION.md", ".copier-answers.yml", ".github/workflows/ci.yml", "contracts/customers.odcs.yaml",
]


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict[str, bytes]]:
    repo = copy_example(tmp_path_factory.mktemp("ex") / "churn-prediction")
    before = snapshot(repo)
    report = adopt_json(repo)
    return repo, report, before


def test_json_report_has_the_documented_keys(adopted: tuple[Path, dict, dict]) -> None:
    _, report, _ = adopted
    assert report["package"] == "churn_prediction"
    assert report["template"] == "production"
    assert report["template_version"].startswith("v")
    assert set(report["files"]) >= {"create", "identical", "conflict", "skip"}
    assert report["applied"] is True
    for warning in report["warnings"]:
        assert set(warning) >= {"code", "message", "path"}


def test_states_the_facts_of_the_example(adopted: tuple[Path, dict, dict]) -> None:
    repo, report, _ = adopted
    assert report["notebook"]["value"] == "notebooks/02 - churn model.ipynb"
    assert report["data"]["value"] == "data/customers.csv"
    assert report["target"]["value"] == "churned"
    assert report["model"]["variable"] == "model"
    assert report["model"]["framework"] == "sklearn"
    assert report["task"] == "classification"
    adoption = (repo / "ADOPTION.md").read_text(encoding="utf-8")
    assert "`churned`" in adoption and "`data/customers.csv`" in adoption
    assert "README.md" in adoption and "conflict" in adoption


def test_generates_the_production_skeleton(adopted: tuple[Path, dict, dict]) -> None:
    repo, report, _ = adopted
    for rel in REQUIRED:
        assert (repo / rel).is_file(), rel
    module = repo / "src/churn_prediction/from_notebook.py"
    text = module.read_text(encoding="utf-8")
    ast.parse(text)
    assert "pd.read_csv(_data('data/customers.csv'))" in text  # anchored at the project root
    assert "# [shipyard] %matplotlib inline" in text and "# [shipyard] !pip install" in text
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert answers["_commit"] == report["template_version"]
    assert Path(answers["_src_path"]).is_dir()
    assert answers["target_column"] == "churned" and answers["package_name"] == "churn_prediction"


def test_every_pre_existing_file_is_byte_identical(adopted: tuple[Path, dict, dict]) -> None:
    repo, report, before = adopted
    after = snapshot(repo)
    for rel, content in before.items():
        assert after[rel] == content, f"{rel} was changed"
    assert report["files"]["conflict"] == ["README.md"]


def test_second_run_changes_nothing_and_says_so(adopted: tuple[Path, dict, dict]) -> None:
    repo, _, _ = adopted
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "adopt")
    before = snapshot(repo)
    done = shipyard("adopt", repo, "--yes", check=True)
    assert "Nothing to write" in done.stdout and "1 conflict(s)" in done.stdout
    report = adopt_json(repo)
    assert report["changes_nothing"] is True and report["files"]["create"] == []
    assert report["files"]["conflict"] == ["README.md"]  # not ADOPTION.md: it must come out identical
    assert snapshot(repo) == before
    assert git(repo, "status", "--porcelain") == ""


def test_plain_copier_update_works_on_the_adopted_project(adopted: tuple[Path, dict, dict]) -> None:
    repo, _, _ = adopted
    if git(repo, "status", "--porcelain"):
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "adopt")
    copier = Path(sys.executable).parent / "copier"
    done = subprocess.run([str(copier), "update", "--defaults", "--trust"], cwd=repo, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_notebooks_are_never_modified(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "nb")
    notebooks = {p: p.read_bytes() for p in repo.rglob("*.ipynb")}
    adopt_json(repo, "--force", "README.md")
    assert {p: p.read_bytes() for p in notebooks} == notebooks


def test_dry_run_writes_nothing_and_diff_shows_the_files(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "dry")
    before = snapshot(repo)
    done = shipyard("adopt", repo, "--dry-run", "--diff", check=True)
    assert snapshot(repo) == before
    assert "+++ b/Dockerfile" in done.stdout and "Dry run: nothing was written." in done.stdout
    assert "-# Churn prediction" in done.stdout  # the conflict's diff
    report = json.loads(shipyard("adopt", repo, "--dry-run", "--json", check=True).stdout)
    assert report["applied"] is False and "Dockerfile" in report["files"]["create"]


def test_force_overwrites_one_conflict_and_keeps_a_backup(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "force")
    original = (repo / "README.md").read_bytes()
    report = adopt_json(repo, "--force", "README.md")
    assert report["files"]["overwrite"] == ["README.md"]
    assert (repo / "README.md").read_bytes() != original
    [backup] = report["backups"]
    assert (repo / backup).read_bytes() == original


def test_flags_override_every_inferred_choice(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "flags")
    report = adopt_json(repo, "--dry-run", "--target", "support_calls", "--name", "Retenção & Churn",
                       "--owner", "ml@corp.example", "--notebook", "notebooks/02 - churn model.ipynb")
    assert report["package"] == "retencao_churn"
    assert report["target"]["value"] == "support_calls"
    assert "--target" in report["target"]["reason"] or report["target"]["flag"] == "--target"


def test_model_flag_picks_another_fitted_variable(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "model")
    report = adopt_json(repo, "--dry-run", "--model", "logreg")
    assert report["model"]["variable"] == "logreg"
    done = shipyard("adopt", repo, "--dry-run", "--model", "nope")
    assert done.returncode == 2 and "logreg" in done.stderr and "model" in done.stderr


def test_writing_without_a_terminal_needs_yes(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "noyes")
    before = snapshot(repo)
    done = shipyard("adopt", repo)
    assert done.returncode == 2 and "--yes" in done.stderr
    assert snapshot(repo) == before


def test_a_subfolder_project_is_warned_about_github_workflows(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    copy_example(top / "services" / "churn")
    import shutil

    shutil.rmtree(top / "services" / "churn" / ".git")
    from conftest import make_repo

    make_repo(top)
    report = adopt_json(top / "services" / "churn", "--dry-run")
    assert "subfolder-project" in {w["code"] for w in report["warnings"]}


def test_built_in_template_renders_exactly_as_copier_renders_its_git_tag(tmp_path: Path) -> None:
    """Adopt renders the built-in template from its files; copier from the cached git tag: same bytes."""
    import copier
    from shipyard.render import materialise_builtin, parse_source, render

    answers = {"project_name": "Análise & Churn", "data_path": "data/vendas 2024.csv", "target_column": "preço",
               "dependencies": ["xgboost>=2"], "owner_email": "ana@example.org"}
    ours = render(parse_source(None), answers, tmp_path / "ours")
    repo, tag = materialise_builtin()
    copier.run_copy(str(repo), tmp_path / "copier", data=answers, vcs_ref=tag, defaults=True, quiet=True,
                    unsafe=True)
    assert ours.version == tag
    assert snapshot(tmp_path / "ours") == snapshot(tmp_path / "copier")


def test_a_tampered_answers_file_cannot_steer_names_or_paths(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "tamper")
    (repo / ".copier-answers.yml").write_text(
        "package_name: churn\nnotebook_module: x$(touch /tmp/pwn)\ndataset_name: d$(id)\n"
        "data_path: ../../etc/passwd\nowner_email: kept@example.org\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "answers")
    report = adopt_json(repo, "--dry-run")
    created = report["files"]["create"]
    assert "src/churn/from_notebook.py" in created and "contracts/customers.odcs.yaml" in created
    assert not any("$(" in path for path in created)
    assert report["data"]["value"] == "data/customers.csv"
