"""Layered templates: a company template that extends another (the built-in one, or a git template) and
holds only what it adds, overrides or removes; adopt, new and update work through the layers."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import copy_example, git, make_repo, shipyard
from template_fixtures import V1, write

LAYER_COPIER = "_subdirectory: template\n_answers_file: .copier-answers.yml\ncompany:\n  type: str\n  default: Acme\n"
ANSWERS_JINJA = "{{ _copier_answers|to_nice_yaml -}}\n"


def company_layer(root: Path, extends: str, files: dict[str, str], remove: list[str] | None = None) -> Path:
    root.mkdir(parents=True)
    layer = f"# Acme's production template: the built-in one plus what Acme adds.\nextends: {extends}\n"
    if remove:
        layer += "remove:\n" + "".join(f"  - {r}\n" for r in remove)
    write(root, {"shipyard-layer.yml": layer, "copier.yml": LAYER_COPIER,
                 "template/{{_copier_conf.answers_file}}.jinja": ANSWERS_JINJA, **files})
    make_repo(root)
    git(root, "tag", "v1")
    return root


def test_a_company_layer_on_the_built_in_template_adds_overrides_and_removes(tmp_path):
    layer = company_layer(tmp_path / "acme", "production", {
        "template/COMPANY.md.jinja": "{{ company }} runs {{ package_name }}\n",
        "template/.dockerignore": "# Acme's own\n*\n",
    }, remove=["docker-compose.yml"])
    repo = copy_example(tmp_path / "repo")
    done = shipyard("adopt", repo, "--yes", "--json", "--template", f"{layer}@v1", "--set", "company=Acme Corp",
                    "--set", "ci_provider=both")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["template_version"] == "v1"
    pkg = report["package"]
    assert (repo / "COMPANY.md").read_text(encoding="utf-8") == f"Acme Corp runs {pkg}\n"
    assert (repo / ".dockerignore").read_text(encoding="utf-8") == "# Acme's own\n*\n"  # overridden
    assert not (repo / "docker-compose.yml").exists()  # removed by the layer
    assert (repo / "Makefile").is_file() and (repo / ".gitlab-ci.yml").is_file()  # from the built-in layer
    assert (repo / "src" / pkg / f"{'from_notebook'}.py").is_file()  # the notebook module, as ever
    answers = (repo / ".copier-answers.yml").read_text(encoding="utf-8")
    assert f"_src_path: {layer}" in answers and "_commit: v1" in answers
    assert "company: Acme Corp" in answers and f"package_name: {pkg}" in answers and "ci_provider: both" in answers

    # the layer moves on: v2 changes its own file; the project takes it with update
    write(layer, {"template/COMPANY.md.jinja": "{{ company }} runs {{ package_name }} (v2)\n"})
    git(layer, "commit", "-q", "-am", "v2")
    git(layer, "tag", "v2")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "adopt")
    updated = shipyard("update", repo, "--yes", "--json")
    assert updated.returncode == 0, updated.stderr
    kinds = {f["path"]: f["kind"] for f in json.loads(updated.stdout)["files"]}
    assert kinds["COMPANY.md"] == "updated" and kinds["Makefile"] == "unchanged"
    assert (repo / "COMPANY.md").read_text(encoding="utf-8") == f"Acme Corp runs {pkg} (v2)\n"


def test_an_update_of_the_template_below_reaches_the_layers_projects(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    write(base, V1)
    make_repo(base)
    git(base, "tag", "v1")
    layer = company_layer(tmp_path / "acme", str(base), {"template/COMPANY.md": "ours\n"})
    done = shipyard("new", "svc", "--template", f"{layer}@v1", "--set", "name=svc", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tmp_path / "svc"
    assert (project / "kept_as_is.txt").is_file() and (project / "COMPANY.md").read_text(encoding="utf-8") == "ours\n"
    questions = shipyard("update", project, "--dry-run", "--set", "colour=x")
    assert questions.returncode == 2 and "company" in questions.stderr and "name" in questions.stderr

    write(base, {"template/kept_as_is.txt": "changed by the base's v2\n"})
    git(base, "commit", "-q", "-am", "base v2")
    git(base, "tag", "v2")
    updated = shipyard("update", project, "--yes", "--json")
    assert updated.returncode == 0, updated.stderr
    report = json.loads(updated.stdout)
    assert report["from_version"] == report["to_version"] == "v1"  # the layer did not move; its base did
    assert {f["path"]: f["kind"] for f in report["files"]}["kept_as_is.txt"] == "updated"
    assert (project / "kept_as_is.txt").read_text(encoding="utf-8") == "changed by the base's v2\n"
    assert (project / "COMPANY.md").read_text(encoding="utf-8") == "ours\n"


def test_a_layer_that_extends_itself_is_refused_with_the_reason(tmp_path):
    layer = company_layer(tmp_path / "loop", ".", {"template/x.txt": "x\n"})
    done = shipyard("new", "x", "--template", str(layer), cwd=tmp_path)
    assert done.returncode == 6 and "more than 5 deep" in done.stderr
    assert not (tmp_path / "x").exists()
