"""`shipyard update` on the edges a review found: renames with .rej, an old .rej in the way, symlinks and
folders where the template writes, the executable bit, odd file names, a hook refusing fleet's commit,
a layer removing a folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import copier
from conftest import git, make_repo, shipyard, snapshot
from template_fixtures import LINES, text, write

HEAD = {"copier.yml": "_subdirectory: template\n_answers_file: .copier-answers.yml\n",
        "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n"}


def two_versions(root: Path, v1: dict[str, str], v2: dict[str, str | None], *, modes: dict[str, int] | None = None,
                 ) -> Path:
    root.mkdir(parents=True)
    write(root, {**HEAD, **{f"template/{k}": v for k, v in v1.items()}})
    make_repo(root)
    git(root, "tag", "v1")
    for rel, content in v2.items():
        path = root / "template" / rel
        if content is None:
            path.unlink()
        else:
            write(root, {f"template/{rel}": content})
    for rel, mode in (modes or {}).items():
        os.chmod(root / "template" / rel, mode)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", "v2")
    git(root, "tag", "v2")
    return root


def project_of(template: Path, dest: Path) -> Path:
    copier.run_copy(str(template), dest, vcs_ref="v1", defaults=True, quiet=True)
    return make_repo(dest)


def commit(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "edit")


def kinds(done) -> dict[str, str]:
    return {f["path"]: f["kind"] for f in json.loads(done.stdout)["files"]}


def test_a_renamed_file_in_conflict_with_rej_stays_where_it_is(tmp_path):
    tpl = two_versions(tmp_path / "t", {"old.txt": text(*LINES)},
                       {"old.txt": None, "new.txt": text(*LINES[:4], "line 5 from v2\n", *LINES[5:])})
    project = project_of(tpl, tmp_path / "p")
    write(project, {"old.txt": text(*LINES[:4], "line 5 from the user\n", *LINES[5:])})
    commit(project)
    done = shipyard("update", project, "--yes", "--conflict", "rej")
    assert done.returncode == 9, done.stderr
    assert "line 5 from the user" in (project / "old.txt").read_text(encoding="utf-8")
    assert not (project / "new.txt").exists()
    assert "+line 5 from v2" in (project / "old.txt.rej").read_text(encoding="utf-8")


def test_an_old_rej_in_the_way_is_refused_before_anything_is_written(tmp_path):
    tpl = two_versions(tmp_path / "t", {"f.txt": text(*LINES)},
                       {"f.txt": text(*LINES[:4], "line 5 from v2\n", *LINES[5:])})
    project = project_of(tpl, tmp_path / "p")
    write(project, {"f.txt": text(*LINES[:4], "line 5 mine\n", *LINES[5:]), "f.txt.rej": "an old one\n"})
    commit(project)
    before = snapshot(project)
    done = shipyard("update", project, "--yes", "--conflict", "rej")
    assert done.returncode == 2 and "f.txt.rej exists already" in done.stderr
    assert snapshot(project) == before


def test_a_symlink_or_a_folder_where_the_template_adds_a_file_is_kept(tmp_path):
    tpl = two_versions(tmp_path / "t", {"a.txt": "a\n"}, {"b.txt": "from v2\n", "d/c.txt": "from v2\n"})
    project = project_of(tpl, tmp_path / "p")
    (project / "mine.txt").write_text("mine\n", encoding="utf-8")
    os.symlink("mine.txt", project / "b.txt")
    (project / "d" / "c.txt").mkdir(parents=True)
    (project / "d" / "c.txt" / "keep").write_text("k\n", encoding="utf-8")
    commit(project)
    done = shipyard("update", project, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert kinds(done)["b.txt"] == "kept" and kinds(done)["d/c.txt"] == "kept"
    assert (project / "b.txt").is_symlink() and (project / "d" / "c.txt" / "keep").is_file()


def test_the_executable_bit_is_merged_three_way(tmp_path):
    tpl = two_versions(tmp_path / "t", {"run.sh": "echo 1\n", "tool.sh": "echo a\n"},
                       {"tool.sh": "echo b\n"}, modes={"run.sh": 0o755})
    project = project_of(tpl, tmp_path / "p")
    os.chmod(project / "tool.sh", 0o755)  # the user's own +x, on a file the template changes
    commit(project)
    done = shipyard("update", project, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert os.access(project / "run.sh", os.X_OK)  # the template's +x is taken
    assert os.access(project / "tool.sh", os.X_OK)  # the user's +x is kept
    assert (project / "tool.sh").read_text(encoding="utf-8") == "echo b\n"


def test_odd_file_names_survive_the_base_and_the_next_update(tmp_path):
    name = 'a "quoted" name.txt'
    tpl = two_versions(tmp_path / "t", {name: "v1\n"}, {name: "v2\n"})
    project = project_of(tpl, tmp_path / "p")
    assert shipyard("update", project, "--yes", "--to", "v2").returncode == 0
    commit(project)
    write(tpl, {f"template/{name}": "v3\n"})
    git(tpl, "commit", "-q", "-am", "v3")
    git(tpl, "tag", "v3")
    done = shipyard("update", project, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["base"] == "recorded" and kinds(done)[name] == "updated"
    assert (project / name).read_text(encoding="utf-8") == "v3\n"


def test_a_file_of_yours_that_a_rename_would_take_stays_yours_in_later_updates(tmp_path):
    tpl = two_versions(tmp_path / "t", {"old.txt": text(*LINES)}, {"old.txt": None, "new.txt": text(*LINES)})
    project = project_of(tpl, tmp_path / "p")
    write(project, {"new.txt": "my own unrelated file\n"})
    commit(project)
    first = shipyard("update", project, "--yes", "--json")
    assert first.returncode == 0 and kinds(first)["old.txt"] == "kept"
    commit(project)
    write(tpl, {"template/new.txt": text("v3\n", *LINES[1:])})
    git(tpl, "commit", "-q", "-am", "v3")
    git(tpl, "tag", "v3")
    second = shipyard("update", project, "--yes", "--json")
    assert second.returncode == 0, second.stderr
    assert kinds(second)["new.txt"] == "kept"
    assert (project / "new.txt").read_text(encoding="utf-8") == "my own unrelated file\n"


def test_a_hook_refusing_fleets_commit_leaves_the_users_branch_clean(tmp_path):
    tpl = two_versions(tmp_path / "t", {"f.txt": "1\n"}, {"f.txt": "2\n"})
    project = project_of(tpl, tmp_path / "p")
    hook = project / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'no commits today' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    head = git(project, "rev-parse", "HEAD")
    done = shipyard("fleet", "update", project, "--json")
    assert done.returncode == 10
    outcome = json.loads(done.stdout)["projects"][0]
    assert outcome["result"] == "failed" and "no commits today" in outcome["reason"]
    assert git(project, "status", "--porcelain") == "" and git(project, "rev-parse", "HEAD") == head
    assert git(project, "branch", "--show-current").strip() == "main"
    assert git(project, "branch", "--list", "shipyard/*") == ""


def test_a_layer_can_remove_a_folder_and_provide_a_file_it_removes_from_below(tmp_path):
    base = two_versions(tmp_path / "base", {"docs/a.md": "a\n", "README.md": "base\n"}, {})
    layer = tmp_path / "layer"
    layer.mkdir()
    write(layer, {**HEAD, "shipyard-layer.yml": f"extends: {base}@v1\nremove:\n  - docs\n  - README.md\n",
                  "template/README.md": "the layer's own\n"})
    make_repo(layer)
    done = shipyard("new", "svc", "--template", f"{layer}@HEAD", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "svc" / "docs").exists()
    assert (tmp_path / "svc" / "README.md").read_text(encoding="utf-8") == "the layer's own\n"


def test_a_broken_answers_file_is_named_as_such(tmp_path):
    tpl = two_versions(tmp_path / "t", {"f.txt": "1\n"}, {"f.txt": "2\n"})
    project = project_of(tpl, tmp_path / "p")
    (project / ".copier-answers.yml").write_text("_src_path: [unclosed\n", encoding="utf-8")
    commit(project)
    done = shipyard("update", project)
    assert done.returncode == 4 and "cannot be read as YAML" in done.stderr


def test_fleet_updates_two_projects_of_one_monorepo_on_a_branch_each(tmp_path):
    tpl = two_versions(tmp_path / "t", {"f.txt": "1\n"}, {"f.txt": "2\n"})
    mono = tmp_path / "mono"
    for name in ("svc-a", "svc-b"):
        copier.run_copy(str(tpl), mono / name, vcs_ref="v1", defaults=True, quiet=True)
    make_repo(mono)
    done = shipyard("fleet", "update", mono / "svc-a", mono / "svc-b", "--json", "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    outcomes = json.loads(done.stdout)["projects"]
    assert [o["result"] for o in outcomes] == ["applied", "applied"]
    assert sorted(o["branch"] for o in outcomes) == ["shipyard/update-v2-svc-a", "shipyard/update-v2-svc-b"]
    assert git(mono, "show", "shipyard/update-v2-svc-a:svc-a/f.txt") == "2\n"
    assert git(mono, "show", "shipyard/update-v2-svc-a:svc-b/f.txt") == "1\n"  # each branch, its project only
    assert git(mono, "status", "--porcelain") == "" and git(mono, "branch", "--show-current").strip() == "main"


def test_the_files_a_version_marks_as_the_projects_are_read_from_that_version(tmp_path):
    tpl = two_versions(tmp_path / "t", {"local.cfg": "1\n"}, {"local.cfg": "2\n"})
    # v2 says local.cfg is the project's; a later v3 forgets it, but the update goes --to v2
    write(tpl, {"copier.yml": HEAD["copier.yml"]})
    project = project_of(tpl, tmp_path / "p")
    write(tpl, {"copier.yml": HEAD["copier.yml"] + "_skip_if_exists:\n  - local.cfg\n"})
    git(tpl, "commit", "-q", "-am", "v2b marks local.cfg")
    git(tpl, "tag", "v2b")
    write(tpl, {"copier.yml": HEAD["copier.yml"], "template/local.cfg": "3\n"})
    git(tpl, "commit", "-q", "-am", "v3 forgets it")
    git(tpl, "tag", "v3")
    done = shipyard("update", project, "--yes", "--json", "--to", "v2b")
    assert done.returncode == 0, done.stderr
    assert kinds(done)["local.cfg"] == "user-owned"
    assert (project / "local.cfg").read_text(encoding="utf-8") == "1\n"
