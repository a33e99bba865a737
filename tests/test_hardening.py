"""Hardening cases (issue "Hardening: hostile templates, broken inputs and faults"), each test named after its
case. Cases tested elsewhere keep their tests there; this module holds the ones that have no better home."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
import yaml
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.version import Version

# Releases of copier with the advisories of 2025-2026 that Shipyard's safety leans on.
VULNERABLE = ["9.9.0", "9.11.1", "9.14.0", "9.15.1", "9.17.1"]


def test_case_04_copier_is_required_at_a_release_with_the_path_and_trust_fixes() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (copier,) = [Requirement(d) for d in deps if Requirement(d).name == "copier"]
    assert not any(copier.specifier.contains(v) for v in VULNERABLE), copier
    assert copier.specifier.contains("9.18.1") and copier.specifier.contains("9.19.1")
    # a user's plain `copier update` of a generated project is held to the same floor
    template = yaml.safe_load((ROOT / "templates/production/copier.yml").read_text())
    assert Version(template["_min_copier_version"]) >= Version("9.18.1")
    import copier

    assert Version(copier.__version__) >= Version("9.18.1")


def test_case_06_an_untrusted_template_with_tasks_or_migrations_is_refused_with_its_own_exit_code(tmp_path) -> None:
    from conftest import copy_example, make_repo, shipyard, snapshot
    from template_fixtures import write

    for key, body in (("_tasks", "_tasks:\n  - touch PWNED\n"),
                      ("_migrations", "_migrations:\n  - version: v2\n    command: touch PWNED\n")):
        template = tmp_path / key
        write(template, {"copier.yml": "_subdirectory: template\nname:\n  type: str\n  default: demo\n" + body,
                         "template/README.md.jinja": "# {{ name }}\n",
                         "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n"})
        make_repo(template)
        repo = copy_example(tmp_path / f"repo{key}")
        before = snapshot(repo)
        done = shipyard("adopt", repo, "--yes", "--template", template)
        assert done.returncode == 7, (key, done.stderr)
        assert done.stderr.count("\n") == 1 and "--trust" in done.stderr
        assert snapshot(repo) == before and not (repo / "PWNED").exists()
        created = shipyard("new", "x", "--path", tmp_path / f"new{key}", "--template", template)
        assert created.returncode == 7 and not (tmp_path / f"new{key}").exists()


def test_case_02_a_template_symlink_to_a_folder_outside_is_refused_and_nothing_is_written(tmp_path) -> None:
    import os

    from conftest import copy_example, make_repo, shipyard, snapshot
    from template_fixtures import write

    outside = tmp_path / "outside"
    (outside / "secrets").mkdir(parents=True)
    (outside / "secrets" / "id_rsa").write_text("PRIVATE KEY\n")
    for preserve in ("true", "false"):
        template = tmp_path / f"tpl-{preserve}"
        write(template, {"copier.yml": f"_subdirectory: template\n_preserve_symlinks: {preserve}\n"
                                       "name:\n  type: str\n  default: demo\n",
                         "template/README.md.jinja": "# {{ name }}\n",
                         "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n"})
        os.symlink(outside / "secrets", template / "template" / "keys")  # a folder symlink leading out
        os.symlink(outside / "secrets" / "id_rsa", template / "template" / "key.txt")  # a file symlink
        make_repo(template)
        repo = copy_example(tmp_path / f"repo-{preserve}")
        before = snapshot(repo)
        done = shipyard("adopt", repo, "--yes", "--template", template)
        assert done.returncode == 5, (preserve, done.stderr)
        assert done.stderr.count("\n") == 1 and "symlink" in done.stderr.lower(), done.stderr
        assert snapshot(repo) == before
        assert not any("PRIVATE KEY" in v.decode(errors="replace") for v in snapshot(repo).values())


HOSTILE_NAMES = {  # what a question's answer makes of a file or folder name `{{ target }}`
    "parent": ("../../escaped", "{{ target }}.txt"),
    "absolute": ("/tmp/shipyard-absolute", "{{ target }}.txt"),
    "drive letter": ("C:", "{{ target }}/escaped.txt"),
    "nul byte": ("a\\x00b", "{{ target }}.txt"),
    "folder": ("../..", "{{ target }}/escaped-folder/x.txt"),
}


@pytest.mark.parametrize("case", list(HOSTILE_NAMES))
def test_case_01_a_template_name_that_renders_outside_the_destination_is_refused(case, tmp_path) -> None:
    from conftest import copy_example, make_repo, shipyard, snapshot
    from template_fixtures import write

    value, name = HOSTILE_NAMES[case]
    template = tmp_path / "tpl"
    write(template, {"copier.yml": f'_subdirectory: template\ntarget:\n  type: str\n  default: "{value}"\n',
                     "template/README.md.jinja": "# {{ target }}\n",
                     "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
                     f"template/{name}": "written outside\n"})
    make_repo(template)
    repo = copy_example(tmp_path / "work" / "repo")
    before = snapshot(repo)
    around = sorted(p.name for p in tmp_path.iterdir())
    done = shipyard("adopt", repo, "--yes", "--template", template)
    assert done.returncode == 5, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert snapshot(repo) == before and sorted(p.name for p in tmp_path.iterdir()) == around
    assert not (tmp_path / "work" / "escaped.txt").exists() and not Path("/tmp/shipyard-absolute.txt").exists()


BASE_COPIER = "name:\n  type: str\n  default: demo\n"
HOSTILE_CONFIGS = {  # (copier.yml, extra template files) of templates that reach outside themselves
    "subdirectory ..": ("_subdirectory: ..\n" + BASE_COPIER, {}),
    "!include outside": ("_subdirectory: template\n!include ../outside.yml\n" + BASE_COPIER, {}),
    "jinja include outside": ("_subdirectory: template\n" + BASE_COPIER,
                              {"template/x.txt.jinja": "{% include '../../outside.yml' %}\n"}),
    "python tag": ("_subdirectory: template\nname: !!python/object/apply:os.system ['touch PWNED']\n", {}),
}


@pytest.mark.parametrize("trust", [False, True], ids=["untrusted", "trusted"])
@pytest.mark.parametrize("case", list(HOSTILE_CONFIGS))
def test_case_04_subdirectory_includes_and_python_tags_outside_the_template_are_refused(case, trust, tmp_path):
    from conftest import copy_example, make_repo, shipyard, snapshot
    from template_fixtures import write

    (tmp_path / "outside.yml").write_text("secret: from outside the template\n")
    config, extra = HOSTILE_CONFIGS[case]
    template = tmp_path / "tpl"
    write(template, {"copier.yml": config, "template/README.md.jinja": "# {{ name }}\n",
                     "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
                     **extra})
    make_repo(template)
    repo = copy_example(tmp_path / "repo")
    before = snapshot(repo)
    done = shipyard("adopt", repo, "--yes", "--template", template, *(["--trust"] if trust else []))
    assert done.returncode in (5, 6), done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert snapshot(repo) == before and not (repo / "PWNED").exists() and not Path("PWNED").exists()
    assert "from outside the template" not in done.stdout + done.stderr


def test_case_04_a_python_tag_in_the_answers_file_is_refused_by_update(tmp_path):
    from conftest import adopt_json, copy_example, git, shipyard, snapshot

    repo = copy_example(tmp_path / "repo")
    adopt_json(repo)
    answers = repo / ".copier-answers.yml"
    answers.write_text(answers.read_text() + "evil: !!python/object/apply:os.system ['touch PWNED']\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tampered")
    before = snapshot(repo)
    done = shipyard("update", repo, "--yes")
    assert done.returncode == 4, done.stderr
    assert done.stderr.count("\n") == 1 and ".copier-answers.yml" in done.stderr
    assert snapshot(repo) == before and not (repo / "PWNED").exists()


SANDBOX_ESCAPES = {  # known Jinja payloads; each would create PWNED (or read a file) if it escaped
    "self globals": "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch PWNED') }}",
    "subclasses": "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}"
                  "{{ c()._module.__builtins__['__import__']('os').system('touch PWNED') }}{% endif %}{% endfor %}",
    "cycler": "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "lipsum": "{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}",
    "joiner": "{{ joiner.__init__.__globals__['os'].system('touch PWNED') }}",
    "path object": "{{ _copier_conf.dst_path.joinpath('PWNED').write_text('x') }}",
    "format string": "{{ '{0.__class__.__init__.__globals__}'.format(self) }}",
    "attr filter": "{{ self|attr('__init__')|attr('__globals__') }}",
}


@pytest.mark.parametrize("payload", list(SANDBOX_ESCAPES))
def test_case_05_jinja_sandbox_escapes_fail_and_run_nothing(payload, tmp_path):
    from conftest import copy_example, make_repo, shipyard, snapshot
    from template_fixtures import write

    template = tmp_path / "tpl"
    write(template, {"copier.yml": "_subdirectory: template\n" + BASE_COPIER,
                     "template/README.md.jinja": "# {{ name }}\n",
                     "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
                     "template/escape.txt.jinja": SANDBOX_ESCAPES[payload] + "\n"})
    make_repo(template)
    repo = copy_example(tmp_path / "repo")
    before = snapshot(repo)
    done = shipyard("adopt", repo, "--yes", "--template", template, cwd=tmp_path)
    assert not list(tmp_path.rglob("PWNED")), "the payload ran"
    if done.returncode == 0:  # the sandbox rendered the unsafe attribute as undefined: nothing leaked into it
        out = (repo / "escape.txt").read_text(encoding="utf-8")
        assert not re.search(r"module|built-in|function|__globals__|os\.", out), out
        return
    assert done.returncode == 6, done.stdout + done.stderr  # the sandbox stopped the render: nothing written
    assert done.stderr.count("\n") == 1 and snapshot(repo) == before


def test_case_05_the_answers_handed_to_a_template_are_plain_values(tmp_path):
    from conftest import copy_example
    from shipyard.adopt import AdoptOptions, prepare

    repo = copy_example(tmp_path / "repo")
    prepared = prepare(AdoptOptions(path=repo, dry_run=True))

    def plain(value) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or type(value) in (str, int, float, bool)

    bad = {k: type(v).__name__ for k, v in prepared.answers.items() if not plain(v)}
    assert not bad, bad


def test_case_06_trusted_prefix_bypasses_are_not_trusted(tmp_path):
    from conftest import copy_example, make_repo, shipyard, snapshot, trust_sources
    from template_fixtures import write

    platform = tmp_path / "platform"
    evil = tmp_path / "evil"
    for folder in (platform / "tpl", evil):
        write(folder, {"copier.yml": "_subdirectory: template\n_tasks:\n  - touch PWNED\n" + BASE_COPIER,
                       "template/README.md.jinja": "# {{ name }}\n",
                       "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n"})
        make_repo(folder)
    trust_sources(platform)
    repo = copy_example(tmp_path / "repo")
    before = snapshot(repo)
    bypasses = [f"{platform}/../evil", f"{platform}/tpl/../../evil", f"{platform}/%2e%2e/evil",
                f"{platform}%2f..%2fevil", f"{platform}\\..\\evil", f"-{platform}/tpl",
                f"file://{platform}/../evil", f"{platform}/./../evil"]
    for spec in bypasses:
        done = shipyard("adopt", repo, "--yes", "--template", spec, cwd=tmp_path)
        assert done.returncode in (2, 4, 6, 7), (spec, done.returncode, done.stderr)
        assert done.stderr.count("\n") == 1, (spec, done.stderr)
        assert snapshot(repo) == before and not list(tmp_path.rglob("PWNED")), spec
    # the trusted one itself runs its task: the prefix works, so the refusals above are the bypass failing
    done = shipyard("new", "ok", "--path", tmp_path / "ok", "--template", platform / "tpl", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ok" / "PWNED").exists()


def test_case_11_existing_dockerfile_ci_codeowners_and_pyproject_are_conflicts_never_overwritten(tmp_path):
    from conftest import adopt_json, copy_example, git, snapshot
    from template_fixtures import write

    repo = copy_example(tmp_path / "repo")
    mine = {"Dockerfile": "FROM scratch\n# mine\n", ".github/workflows/ci.yml": "name: mine\non: push\njobs: {}\n",
            ".gitlab-ci.yml": "mine:\n  script: [echo mine]\n", "CODEOWNERS": "* @me\n",
            "pyproject.toml": "[project]\nname = 'mine'\nversion = '1'\n", ".dockerignore": "mine\n"}
    write(repo, mine)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "my own delivery files")
    report = adopt_json(repo)
    after = snapshot(repo)
    for rel, text in mine.items():
        assert after[rel] == text.encode(), f"{rel} was changed"
    conflicts = set(report["files"]["conflict"])
    assert {"Dockerfile", ".github/workflows/ci.yml", "CODEOWNERS", "pyproject.toml", ".dockerignore"} <= conflicts
    critical = {w["path"] for w in report["warnings"] if w["code"] == "conflict" and w["severity"] == "error"}
    assert {"Dockerfile", "pyproject.toml", ".dockerignore"} <= critical


def test_case_13_adopt_twice_the_second_run_writes_nothing(tmp_path):
    import os

    from conftest import adopt_json, copy_example, git, snapshot

    repo = copy_example(tmp_path / "repo")
    adopt_json(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "adopted")
    before = snapshot(repo)
    stamps = {p: os.stat(repo / p).st_mtime_ns for p in before}
    again = adopt_json(repo)
    assert again["changes_nothing"] and not again["applied"]
    assert snapshot(repo) == before
    assert {p: os.stat(repo / p).st_mtime_ns for p in before} == stamps, "a file was rewritten"


def test_case_10_a_git_worktree_a_shallow_clone_and_a_monorepo_folder_adopt_on_the_right_root(tmp_path):
    import subprocess

    from conftest import GIT_ENV, adopt_json, copy_example, git, shipyard

    origin = copy_example(tmp_path / "origin")
    worktree = tmp_path / "wt"
    git(origin, "worktree", "add", "-q", str(worktree), "-b", "adopt")
    report = adopt_json(worktree)
    assert report["root"] == str(worktree) and (worktree / "Dockerfile").is_file()
    assert not (origin / "Dockerfile").exists(), "the main checkout is untouched"
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(shallow)], check=True,
                   env={**__import__("os").environ, **GIT_ENV})
    assert adopt_json(shallow)["root"] == str(shallow) and (shallow / "Dockerfile").is_file()
    mono = tmp_path / "mono"
    (mono / "services").mkdir(parents=True)
    subprocess.run(["cp", "-r", str(origin), str(mono / "services" / "churn")], check=True)
    subprocess.run(["rm", "-rf", str(mono / "services" / "churn" / ".git")], check=True)
    (mono / "README.md").write_text("monorepo\n")
    from conftest import make_repo

    make_repo(mono)
    sub = mono / "services" / "churn"
    (sub / "scratch.txt").write_text("an uncommitted file in the project\n")
    done = shipyard("adopt", sub, "--yes", "--json")
    assert done.returncode == 3 and "scratch.txt" in done.stderr  # the project's tree is dirty: said, refused
    (sub / "scratch.txt").unlink()
    (mono / "other.txt").write_text("a teammate's uncommitted file elsewhere in the monorepo\n")
    report = adopt_json(sub)  # what is not the project's does not block it
    assert report["root"] == str(sub) and (sub / "Dockerfile").is_file() and not (mono / "Dockerfile").exists()
    assert any(w["code"] == "subfolder-project" for w in report["warnings"])
    plain = tmp_path / "plain"
    subprocess.run(["cp", "-r", str(origin), str(plain)], check=True)
    subprocess.run(["rm", "-rf", str(plain / ".git")], check=True)
    refused = shipyard("adopt", plain, "--yes")
    assert refused.returncode == 3 and "git init" in refused.stderr and "--allow-dirty" in refused.stderr
    report = adopt_json(plain, "--allow-dirty")  # a folder without git, adopted as it is, on its own root
    assert report["root"] == str(plain) and (plain / "Dockerfile").is_file() and not (tmp_path / "Dockerfile").exists()
    assert any(w["code"] == "no-git" for w in report["warnings"])
    assert adopt_json(plain, "--allow-dirty")["changes_nothing"]


def test_case_03_a_directory_symlink_in_the_users_repo_that_leads_outside_is_never_written_through(tmp_path):
    import os

    from conftest import adopt_json, copy_example, git, snapshot

    outside = tmp_path / "outside"
    outside.mkdir()
    repo = copy_example(tmp_path / "repo")
    os.symlink(outside, repo / "contracts")  # adopt writes contracts/<dataset>.odcs.yaml
    os.symlink(outside, repo / ".github")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links")
    report = adopt_json(repo)
    assert list(outside.iterdir()) == [], "written through a symlink out of the repo"
    skipped = set(report["files"]["skip"])
    assert any(p.startswith("contracts/") for p in skipped) and any(p.startswith(".github/") for p in skipped)
    assert os.path.islink(repo / "contracts") and os.path.islink(repo / ".github")
    assert snapshot(repo)  # the rest was written


INTERRUPTER = """
import os, signal, sys
import shipyard.apply as apply_mod
real, count = apply_mod._replace, {"n": 0}
def interrupted(src, dst):
    if count["n"] == int(os.environ["AFTER"]):
        fault = os.environ["FAULT"]
        if fault == "ENOSPC":
            raise OSError(28, "No space left on device")
        os.kill(os.getpid(), getattr(signal, fault))  # a real signal, as Ctrl-C or `kill` sends
    count["n"] += 1
    real(src, dst)
apply_mod._replace = interrupted
from shipyard.cli import main
sys.argv = ["shipyard", "adopt", sys.argv[1], "--yes", "--force", "README.md"]
main()
"""


@pytest.mark.parametrize("fault", ["SIGINT", "SIGTERM", "ENOSPC"])
def test_case_12_an_interrupt_or_a_full_disk_half_way_through_an_apply_leaves_the_repo_byte_identical(fault,
                                                                                                       tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT, copy_example, snapshot

    repo = copy_example(tmp_path / "repo")
    before = snapshot(repo)
    folders = sorted(p for p in repo.rglob("*") if p.is_dir() and ".git" not in p.parts)
    done = subprocess.run([sys.executable, "-c", INTERRUPTER, str(repo)], capture_output=True, text=True,
                          env={**os.environ, "AFTER": "7", "FAULT": fault,
                               "PYTHONPATH": str(ROOT / "generator")})
    assert done.returncode == 8, done.stderr  # "write failed (rolled back)"
    assert done.stderr.count("\n") == 1 and "rolled back" in done.stderr, done.stderr
    assert snapshot(repo) == before
    assert sorted(p for p in repo.rglob("*") if p.is_dir() and ".git" not in p.parts) == folders


def test_case_12_a_template_error_leaves_the_repo_byte_identical(tmp_path):
    from conftest import copy_example, make_repo, shipyard, snapshot
    from template_fixtures import write

    template = tmp_path / "tpl"
    write(template, {"copier.yml": "_subdirectory: template\n" + BASE_COPIER,
                     "template/README.md.jinja": "# {{ name }}\n",
                     "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
                     "template/zz_last.txt.jinja": "{{ name | no_such_filter }}\n"})
    make_repo(template)
    repo = copy_example(tmp_path / "repo")
    before = snapshot(repo)
    done = shipyard("adopt", repo, "--yes", "--template", template)
    assert done.returncode == 6 and "no_such_filter" in done.stderr and done.stderr.count("\n") == 1
    assert snapshot(repo) == before


def test_case_13_update_after_user_edits_merges_keeps_deletions_and_never_advances_on_failure(tmp_path):
    import json

    from conftest import git, shipyard, snapshot
    from template_fixtures import generate, tagged_template

    template = tagged_template(tmp_path / "tpl")
    project = generate(template, tmp_path / "project", conflict=False)
    edited = (project / "edit_elsewhere.txt").read_text(encoding="utf-8")
    (project / "edit_elsewhere.txt.bak").write_text("", encoding="utf-8")  # an untracked file: a dirty tree
    before = snapshot(project)
    refused = shipyard("update", project, "--yes")
    assert refused.returncode == 3 and snapshot(project) == before  # failed: nothing written
    assert "_commit: v1" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    (project / "edit_elsewhere.txt.bak").unlink()
    done = shipyard("update", project, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    kinds = {f["path"]: f["kind"] for f in json.loads(done.stdout)["files"]}
    assert kinds["edit_elsewhere.txt"] == "merged"
    assert "line 16 edited by the user" in (project / "edit_elsewhere.txt").read_text(encoding="utf-8")
    assert (project / "edit_elsewhere.txt").read_text(encoding="utf-8") != edited  # the template's change too
    assert not (project / "deleted_by_user.txt").exists() and kinds["deleted_by_user.txt"] == "deleted-locally"
    assert "_commit: v2" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    git(project, "status", "--porcelain")


def test_case_14_a_yaml_bomb_is_refused_by_doctor_in_bounded_time(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    (tmp_path / "OWNERSHIP.yaml").write_text("\n".join(lines) + "\nreview_date: *a11\n")
    done = subprocess.run([sys.executable, "-m", "shipyard", "doctor", str(tmp_path), "--format", "json",
                           "--no-plugins"], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(ROOT / "generator"), "PATH": "/usr/bin:/bin"})
    import json

    rows = {c["id"]: c for c in json.loads(done.stdout)["checks"]}
    assert rows["del-ownership-files"]["result"] == "fail" and "YAML bomb" in rows["del-ownership-files"]["message"]
    assert rows["gov-review-date"]["result"] == "fail"


def test_case_09_update_merges_into_the_users_nfd_spelling_never_a_twin(tmp_path):
    import json
    import unicodedata

    import copier
    from conftest import git, make_repo, shipyard
    from template_fixtures import write

    nfc, nfd = "café.txt", unicodedata.normalize("NFD", "café.txt")
    assert nfc != nfd
    template = tmp_path / "tpl"
    lines = [f"line {i}\n" for i in range(1, 21)]
    write(template, {"copier.yml": "_subdirectory: template\n" + BASE_COPIER,
                     "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
                     f"template/{nfc}": "".join(lines)})
    make_repo(template)
    git(template, "tag", "v1")
    write(template, {f"template/{nfc}": "".join(["line 1 from v2\n", *lines[1:]])})
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "v2")
    git(template, "tag", "v2")
    project = tmp_path / "project"
    copier.run_copy(str(template), project, vcs_ref="v1", defaults=True, quiet=True)
    (project / nfc).rename(project / nfd)  # as macOS writes it
    (project / nfd).write_text("".join([*lines[:15], "line 16 from the user\n", *lines[16:]]))
    make_repo(project)
    done = shipyard("update", project, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in project.iterdir() if p.name.startswith("caf"))
    assert names == [nfd], names  # no NFC twin beside the user's file
    text = (project / nfd).read_text()
    assert text.startswith("line 1 from v2\n") and "line 16 from the user\n" in text
    assert {f["kind"] for f in json.loads(done.stdout)["files"] if f["path"] == nfc} == {"merged"}
