"""Cookiecutter templates wherever copier ones work: `new`, `adopt`, `update` (3-way, from the answers
recorded in cruft's `.cruft.json`), `fleet status`, with hooks behind the trust gate. Rendered for real
by cookiecutter from a template in a real git repository tagged v1 and v2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import copy_example, git, make_repo, shipyard, snapshot, trust_sources
from template_fixtures import LINES, text, write

COOKIE_V1 = {
    "cookiecutter.json": json.dumps({"project_name": "Demo", "repo_name": "{{ cookiecutter.project_name.lower() }}",
                                     "python": ["3.11", "3.12"]}),
    "{{cookiecutter.repo_name}}/README.md": "# {{ cookiecutter.project_name }} on Python {{ cookiecutter.python }}\n",
    "{{cookiecutter.repo_name}}/Makefile": text(*LINES),
    "{{cookiecutter.repo_name}}/old.txt": "dropped in v2\n",
}


@pytest.fixture()
def cookie_template(tmp_path: Path) -> Path:
    repo = tmp_path / "cookie"
    repo.mkdir()
    write(repo, COOKIE_V1)
    make_repo(repo)
    git(repo, "tag", "v1")
    write(repo, {"{{cookiecutter.repo_name}}/Makefile": text("line 1 from v2\n", *LINES[1:]),
                 "{{cookiecutter.repo_name}}/CHANGELOG.md": "new in v2 for {{ cookiecutter.repo_name }}\n"})
    (repo / "{{cookiecutter.repo_name}}" / "old.txt").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v2")
    git(repo, "tag", "v2")
    trust_sources(repo)  # cookiecutter renders without a sandbox: only a trusted source renders
    return repo


def test_new_then_update_a_cookiecutter_project_keeps_the_users_edit(cookie_template, tmp_path):
    done = shipyard("new", "shop", "--template", f"{cookie_template}@v1", "--set", "project_name=Shop",
                    "--set", "python=3.12", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "shop"
    assert (root / "README.md").read_text(encoding="utf-8") == "# Shop on Python 3.12\n"
    state = json.loads((root / ".cruft.json").read_text(encoding="utf-8"))
    assert state["checkout"] == "v1" and state["template"] == str(cookie_template)
    assert state["context"]["cookiecutter"]["repo_name"] == "shop"
    write(root, {"Makefile": text(*LINES[:17], "line 18 edited by the user\n", *LINES[18:])})
    git(root, "commit", "-q", "-am", "my edit")

    status = json.loads(shipyard("fleet", "status", root, "--json", check=True).stdout)["projects"][0]
    assert status["version"] == "v1" and status["latest"] == "v2" and status["modified"] == ["Makefile"]

    updated = shipyard("update", root, "--yes", "--json")
    assert updated.returncode == 0, updated.stderr
    report = json.loads(updated.stdout)
    kinds = {f["path"]: f["kind"] for f in report["files"]}
    assert kinds == {".cruft.json": "updated", "README.md": "unchanged", "Makefile": "merged",
                     "CHANGELOG.md": "new", "old.txt": "removed"}
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert makefile.startswith("line 1 from v2\n") and "line 18 edited by the user\n" in makefile
    assert (root / "CHANGELOG.md").read_text(encoding="utf-8") == "new in v2 for shop\n"
    assert json.loads((root / ".cruft.json").read_text(encoding="utf-8"))["checkout"] == "v2"
    assert (root / "README.md").read_text(encoding="utf-8") == "# Shop on Python 3.12\n"  # answers replayed


def test_a_project_cruft_made_is_updated_from_its_cruft_json(cookie_template, tmp_path):
    from cookiecutter.main import cookiecutter

    out = Path(cookiecutter(str(cookie_template), no_input=True, output_dir=str(tmp_path / "made"),
                            checkout="v1"))
    commit = git(cookie_template, "rev-parse", "v1").strip()
    (out / ".cruft.json").write_text(json.dumps({
        "template": str(cookie_template), "commit": commit, "checkout": None,
        "context": {"cookiecutter": {"project_name": "Demo", "repo_name": "demo", "python": "3.11",
                                     "_template": str(cookie_template)}},
        "directory": None}), encoding="utf-8")
    make_repo(out)
    done = shipyard("update", out, "--yes", "--json", "--to", "v2")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["base"] == "re-rendered" and report["to_version"] == "v2"
    assert (out / "CHANGELOG.md").is_file() and not (out / "old.txt").exists()


def test_hooks_are_refused_without_trust_and_run_with_it(cookie_template, tmp_path):
    write(cookie_template, {"hooks/post_gen_project.py": "open('HOOK_RAN', 'w').write('yes')\n"})
    git(cookie_template, "add", "-A")
    git(cookie_template, "commit", "-q", "-m", "a hook")
    os.environ["SHIPYARD_CONFIG"] = str(tmp_path / "no-config.toml")  # not trusted any more
    refused = shipyard("new", "hooked", "--template", f"{cookie_template}@HEAD", cwd=tmp_path)
    assert refused.returncode == 7 and "post_gen_project.py" in refused.stderr and "--trust" in refused.stderr
    assert not (tmp_path / "hooked").exists()
    trusted = shipyard("new", "hooked", "--template", f"{cookie_template}@HEAD", "--trust", cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    assert (tmp_path / "hooked" / "HOOK_RAN").read_text(encoding="utf-8") == "yes"


def test_an_untrusted_cookiecutter_template_is_refused_before_its_jinja_runs(cookie_template, tmp_path):
    """Cookiecutter's Jinja is not sandboxed: an expression in a file runs code; a name can point outside."""
    canary = tmp_path / "pwned"
    payload = ("{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch " + str(canary) + "') }}")
    write(cookie_template, {"{{cookiecutter.repo_name}}/evil.txt": payload + "\n",
                            "{{cookiecutter.repo_name}}/{{ '../../escaped' }}.txt": "outside\n"})
    git(cookie_template, "add", "-A")
    git(cookie_template, "commit", "-q", "-m", "hostile")
    os.environ["SHIPYARD_CONFIG"] = str(tmp_path / "no-config.toml")
    before = sorted(p.name for p in tmp_path.iterdir())
    refused = shipyard("new", "hostile", "--template", f"{cookie_template}@HEAD", cwd=tmp_path)
    assert refused.returncode == 7
    assert refused.stderr.count("\n") == 1 and "without a sandbox" in refused.stderr and "--trust" in refused.stderr
    assert not canary.exists() and sorted(p.name for p in tmp_path.iterdir()) == before
    repo = copy_example(tmp_path / "repo")
    snap = snapshot(repo)
    adopted = shipyard("adopt", repo, "--yes", "--template", f"{cookie_template}@HEAD")
    assert adopted.returncode == 7 and snapshot(repo) == snap and not canary.exists()


def test_adopt_with_a_cookiecutter_template_writes_its_files_and_keeps_the_notebooks(cookie_template, tmp_path):
    repo = copy_example(tmp_path / "repo")
    notebooks = {k: v for k, v in snapshot(repo).items() if k.endswith(".ipynb")}
    done = shipyard("adopt", repo, "--yes", "--json", "--template", f"{cookie_template}@v1")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["template_version"] == "v1"
    assert (repo / "Makefile").is_file() and (repo / ".cruft.json").is_file()
    assert not (repo / "src").exists()  # the template has no package: no stray notebook module
    assert "notebook-not-converted" in {w["code"] for w in report["warnings"]}
    assert {k: v for k, v in snapshot(repo).items() if k.endswith(".ipynb")} == notebooks
