"""`shipyard update`: a 3-way update with real git repositories, a real copier template tagged v1 and v2,
and a project generated from v1 (by plain `copier copy`) carrying the user's edits.

Every case of the issue's list, the preview against what apply then does, the all-or-nothing write and
the base kept in git objects (so the old template version need not render any more).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import git, make_repo, shipyard, snapshot
from template_fixtures import LINES, cookiecutter_template, generate, layered_template, tagged_template, text, write


@pytest.fixture()
def template(tmp_path: Path) -> Path:
    return tagged_template(tmp_path / "template")


def kinds(report: dict) -> dict[str, str]:
    return {f["path"]: f["kind"] for f in report["files"]}


BUILDERS = {"copier": tagged_template, "cookiecutter": cookiecutter_template, "layered": layered_template}


@pytest.mark.parametrize("engine", list(BUILDERS))
def test_every_case_gets_its_documented_result_and_the_preview_is_what_apply_does(engine, tmp_path):
    template = BUILDERS[engine](tmp_path / "template")
    project = generate(template, tmp_path / "project", engine=engine)
    before = snapshot(project)
    preview = shipyard("update", project, "--dry-run", "--json")
    assert preview.returncode == 0, preview.stderr
    planned = json.loads(preview.stdout)
    assert snapshot(project) == before  # a dry run writes nothing
    state = ".cruft.json" if engine == "cookiecutter" else ".copier-answers.yml"
    assert kinds(planned) == {
        state: "updated", "README.md": "unchanged", "kept_as_is.txt": "unchanged",
        "added.txt": "new", "edit_elsewhere.txt": "merged", "same_line.txt": "conflict",
        "removed.txt": "removed", "removed_but_edited.txt": "kept", "new_name.txt": "renamed",
        "old_name.txt": "removed", "deleted_by_user.txt": "deleted-locally",
        **({"COMPANY.md": "unchanged"} if engine == "layered" else {}),
    }
    assert planned["from_version"] == "v1" and planned["to_version"] == "v2"
    # plain copier copy recorded no base: v1 is rendered again; shipyard new recorded it in git
    assert planned["base"] == ("re-rendered" if engine == "copier" else "recorded")

    done = shipyard("update", project, "--yes", "--json")
    assert done.returncode == 9, done.stderr  # applied, with a conflict for a human
    applied = json.loads(done.stdout)
    assert applied["writes"] == planned["writes"] and applied["files"] == planned["files"]
    assert "same_line.txt" in done.stderr and "conflict" in done.stderr

    read = lambda rel: (project / rel).read_text(encoding="utf-8")  # noqa: E731
    assert read("edit_elsewhere.txt").startswith("line 1 changed by the template\n")
    assert "line 16 edited by the user\n" in read("edit_elsewhere.txt")
    conflict = read("same_line.txt")
    assert "<<<<<<< yours: same_line.txt\nline 5 from the user\n=======\nline 5 from the template\n" in conflict
    assert ">>>>>>> template v2: same_line.txt" in conflict
    assert not (project / "removed.txt").exists()
    assert read("removed_but_edited.txt") == "the user's own version\n"
    assert not (project / "old_name.txt").exists()
    assert read("new_name.txt").startswith("line 1 edited by the user\n")  # the edit followed the rename
    assert read("new_name.txt").endswith("line 20 from the template\n")
    assert not (project / "deleted_by_user.txt").exists()
    assert read("added.txt") == "new in v2 for demo\n"
    assert read("notes.md") == "the user's own file\n"
    if engine == "cookiecutter":
        assert json.loads(read(".cruft.json"))["checkout"] == "v2"
    else:
        assert "_commit: v2" in read(".copier-answers.yml")
    assert not list(project.rglob("*.rej"))


def test_copier_update_still_works_after_shipyard_update(template, tmp_path):
    import copier

    project = generate(template, tmp_path / "project")
    done = shipyard("update", project, "--yes", "--to", "v2")
    assert done.returncode == 9, done.stderr
    write(project, {"same_line.txt": text(*LINES[:4], "line 5 resolved\n", *LINES[5:])})
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "take v2")
    copier.run_update(project, defaults=True, quiet=True, overwrite=True)
    assert "_commit: v2" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    again = shipyard("update", project, "--dry-run", "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["base"] == "recorded" and report["writes"] == []


def test_rej_keeps_your_file_and_writes_the_template_change_beside_it(template, tmp_path):
    project = generate(template, tmp_path / "project")
    mine = (project / "same_line.txt").read_bytes()
    done = shipyard("update", project, "--yes", "--conflict", "rej")
    assert done.returncode == 9
    assert (project / "same_line.txt").read_bytes() == mine
    rej = (project / "same_line.txt.rej").read_text(encoding="utf-8")
    assert "-line 5\n+line 5 from the template\n" in rej


def test_the_base_recorded_in_git_serves_when_the_old_version_no_longer_renders(template, tmp_path):
    project = generate(template, tmp_path / "project")
    assert shipyard("update", project, "--yes", "--to", "v2").returncode == 9
    write(project, {"same_line.txt": text(*LINES)})
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "resolved")
    # v3 changes a file; then the template's history is rewritten: v2 no longer exists anywhere
    write(template, {"template/kept_as_is.txt": "changed in v3\n"})
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "v3")
    git(template, "tag", "v3")
    git(template, "tag", "-d", "v2")
    git(template, "tag", "-d", "v1")
    done = shipyard("update", project, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["base"] == "recorded" and report["to_version"] == "v3"
    assert kinds(report)["kept_as_is.txt"] == "updated"
    assert kinds(report)["same_line.txt"] == "unchanged"
    assert (project / "kept_as_is.txt").read_text(encoding="utf-8") == "changed in v3\n"


def test_a_failed_update_leaves_the_repo_byte_identical_and_the_version_where_it_was(template, tmp_path):
    from shipyard.errors import ApplyError
    from shipyard.update import UpdateOptions, execute, prepare

    project = generate(template, tmp_path / "project")
    prepared = prepare(UpdateOptions(path=project))
    # another program writes a file the update replaces, between the preview and the write
    (project / "edit_elsewhere.txt").write_text("changed meanwhile\n", encoding="utf-8")
    before = snapshot(project)
    refs = git(project, "for-each-ref", "refs/shipyard")
    with pytest.raises(ApplyError, match="rolled back"):
        execute(prepared)
    assert snapshot(project) == before
    assert git(project, "for-each-ref", "refs/shipyard") == refs
    assert "_commit: v1" in (project / ".copier-answers.yml").read_text(encoding="utf-8")


def test_a_dirty_tree_is_refused_and_nothing_is_written(template, tmp_path):
    project = generate(template, tmp_path / "project")
    (project / "notes.md").write_text("uncommitted\n", encoding="utf-8")
    before = snapshot(project)
    done = shipyard("update", project, "--yes")
    assert done.returncode == 3
    assert "uncommitted changes (notes.md)" in done.stderr and "--allow-dirty" in done.stderr
    assert snapshot(project) == before


def test_bad_input_gets_one_line_and_a_distinct_exit_code(template, tmp_path):
    plain = make_repo(_folder(tmp_path / "plain"))
    done = shipyard("update", plain)
    assert done.returncode == 4 and done.stderr.count("\n") == 1 and ".copier-answers.yml" in done.stderr
    project = generate(template, tmp_path / "project")
    unknown = shipyard("update", project, "--set", "colour=blue", "--dry-run")
    assert unknown.returncode == 2 and "no such question" in unknown.stderr and "name" in unknown.stderr
    ref = shipyard("update", project, "--to", "v9", "--dry-run")
    assert ref.returncode == 6 and "v9" in ref.stderr


def test_set_changes_an_answer_through_the_merge(template, tmp_path):
    project = generate(template, tmp_path / "project")
    done = shipyard("update", project, "--yes", "--set", "name=renamed", "--json")
    assert done.returncode == 9
    assert (project / "README.md").read_text(encoding="utf-8") == "# renamed\n"
    assert "name: renamed" in (project / ".copier-answers.yml").read_text(encoding="utf-8")


def _folder(path: Path) -> Path:
    path.mkdir()
    (path / "a.txt").write_text("a\n", encoding="utf-8")
    return path


def test_adopt_with_a_local_git_template_records_its_tag_and_the_base(template, tmp_path):
    """A local git repo as --template used to crash after copier removed its clone."""
    from conftest import copy_example

    repo = copy_example(tmp_path / "repo")
    tpl = tmp_path / "production"
    shutil.copytree(Path(__file__).resolve().parents[1] / "templates" / "production", tpl,
                    ignore=shutil.ignore_patterns("__pycache__"))
    make_repo(tpl)
    git(tpl, "tag", "v1.0.0")
    done = shipyard("adopt", repo, "--yes", "--json", "--template", tpl, "--owner", "ana@example.org")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["template_version"] == "v1.0.0"
    assert "_commit: v1.0.0" in (repo / ".copier-answers.yml").read_text(encoding="utf-8")
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/shipyard").split() == ["refs/shipyard/base/root"]
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "adopt")
    same = shipyard("update", repo, "--dry-run", "--json")
    assert same.returncode == 0, same.stderr
    report = json.loads(same.stdout)
    assert report["base"] == "recorded" and report["writes"] == []


def test_a_project_adopted_with_one_shipyard_release_takes_the_next_releases_template(tmp_path):
    """The next release is this source tree with a changed built-in template and a new version number."""
    from conftest import copy_example

    root = Path(__file__).resolve().parents[1]
    nxt = tmp_path / "next-release"
    for part in ("generator", "templates"):
        shutil.copytree(root / part, nxt / part, ignore=shutil.ignore_patterns("__pycache__"))
    init = nxt / "generator" / "shipyard" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8").replace('__version__ = "', '__version__ = "99.'),
                    encoding="utf-8")
    makefile = nxt / "templates" / "production" / "template" / "Makefile.jinja"
    makefile.write_text(makefile.read_text(encoding="utf-8").replace("PORT ?= 8000", "PORT ?= 8080"),
                        encoding="utf-8")

    repo = copy_example(tmp_path / "repo")
    adopted = shipyard("adopt", repo, "--yes", "--json", "--owner", "ana@example.org", check=True)
    version = json.loads(adopted.stdout)["template_version"]
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "adopt")
    readme = repo / "README.md"
    write(repo, {"Makefile": (repo / "Makefile").read_text(encoding="utf-8") + "\nmine:  ## my own target\n\t@true\n"})
    git(repo, "commit", "-q", "-am", "my target")
    before = readme.read_bytes()

    import os
    import sys

    done = subprocess.run([sys.executable, "-m", "shipyard", "update", str(repo), "--yes", "--json"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(nxt / "generator"),
                               # the next release's tag stays out of the session's cache (other tests adopt
                               # from it and `copier update` would move to v99)
                               "SHIPYARD_CACHE_DIR": str(tmp_path / "next-release-cache")})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["template"] == "production" and report["from_version"] == version
    assert report["to_version"].startswith("v99.") and report["base"] == "recorded"
    assert kinds(report)["Makefile"] == "merged"
    makefile_now = (repo / "Makefile").read_text(encoding="utf-8")
    assert "PORT ?= 8080" in makefile_now and "mine:  ## my own target" in makefile_now
    assert readme.read_bytes() == before  # the user's README (kept at adoption) is never the template's
    assert "ADOPTION.md" not in kinds(report)  # adopt's report is not a template file


def test_files_the_template_marks_as_the_projects_are_never_touched(tmp_path):
    """copier's `_skip_if_exists`: written once, then the project's."""
    import copier

    template = tmp_path / "tpl"
    template.mkdir()
    write(template, {"copier.yml": "_subdirectory: template\n_skip_if_exists:\n  - local.cfg\n  - config/*.ini\n",
                     "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
                     "template/local.cfg": "port = 1\n", "template/config/app.ini": "a = 1\n",
                     "template/shared.cfg": "x = 1\n"})
    make_repo(template)
    git(template, "tag", "v1")
    write(template, {"template/local.cfg": "port = 2\n", "template/config/app.ini": "a = 2\n",
                     "template/shared.cfg": "x = 2\n"})
    git(template, "commit", "-q", "-am", "v2")
    git(template, "tag", "v2")
    project = tmp_path / "project"
    copier.run_copy(str(template), project, vcs_ref="v1", defaults=True, quiet=True)
    make_repo(project)
    done = shipyard("update", project, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    found = kinds(json.loads(done.stdout))
    assert found["local.cfg"] == found["config/app.ini"] == "user-owned" and found["shared.cfg"] == "updated"
    assert (project / "local.cfg").read_text(encoding="utf-8") == "port = 1\n"
    assert (project / "config" / "app.ini").read_text(encoding="utf-8") == "a = 1\n"
    assert (project / "shared.cfg").read_text(encoding="utf-8") == "x = 2\n"
