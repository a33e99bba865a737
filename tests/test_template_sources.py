"""Template sources: local folders, local git repos, git over HTTP with @ref; hostile URLs; credentials."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import git, make_repo, shipyard, snapshot
from template_fixtures import tagged_template, write

HOSTILE = [
    "https://github.com/org/../other/tpl.git",
    "https://github.com/org/%2e%2e/tpl.git",
    "https://github.com/org%2Fother/tpl.git",
    "https://github.com/org\\tpl.git",
    "-uhttps://github.com/org/tpl.git",
    "--upload-pack=touch /tmp/x",
    "https://github.com/org/tpl.git\n",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_a_hostile_template_url_is_refused_before_anything_is_written(url, tmp_path):
    repo = make_repo(_folder(tmp_path / "repo"))
    before = snapshot(repo)
    done = shipyard("adopt", repo, "--yes", "--template", url)
    assert done.returncode in (2, 6), done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert snapshot(repo) == before


@pytest.fixture()
def served(tmp_path: Path):
    """The tagged template served over HTTP (git's dumb protocol) on 127.0.0.1."""
    template = tagged_template(tmp_path / "srv" / "tpl")
    bare = tmp_path / "srv" / "tpl.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(template), str(bare)], check=True)
    subprocess.run(["git", "-C", str(bare), "update-server-info"], check=True)
    handler = functools.partial(_QuietHandler, directory=str(tmp_path / "srv"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", template
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_credentials_in_a_template_url_never_reach_the_answers_file_or_the_output(served, tmp_path):
    host, _ = served
    url = f"http://ana:s3cr3t-token@{host}/tpl.git"
    from shipyard.render import parse_source, render

    rendered = render(parse_source(f"{url}@v1"), {}, tmp_path / "ours")
    answers = (rendered.folder / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "s3cr3t" not in answers and f"_src_path: http://{host}/tpl.git" in answers
    assert rendered.version == "v1"
    from conftest import copy_example

    repo = copy_example(tmp_path / "repo")
    before = snapshot(repo)
    bad = shipyard("adopt", repo, "--yes", "--template", f"{url}@v9")
    assert bad.returncode == 6 and "v9" in bad.stderr
    assert "s3cr3t" not in bad.stderr + bad.stdout
    assert snapshot(repo) == before


def test_case_07_credentials_in_a_template_url_reach_no_generated_file_report_or_log(served, tmp_path):
    host, template = served
    write(template, {"template/leak.txt.jinja": "{{ _copier_answers._src_path }} | {{ _copier_conf.src_path }} | "
                                                "{{ (_copier_answers._src_path | string).split('@')[0] }}\n"})
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "a template that prints its own URL")
    git(template, "tag", "v3")
    bare = template.parent / "tpl.git"
    subprocess.run(["git", "-C", str(template), "push", "-q", "--tags", str(bare), "HEAD:refs/heads/main"],
                   check=True)
    subprocess.run(["git", "-C", str(bare), "update-server-info"], check=True)
    url = f"http://ana:s3cr3t-token@{host}/tpl.git@v3"
    from conftest import copy_example

    repo = copy_example(tmp_path / "repo")
    done = shipyard("adopt", repo, "--yes", "--json", "--template", url)
    assert done.returncode == 0, done.stderr
    assert "s3cr3t" not in done.stdout + done.stderr
    leaked = [rel for rel, data in snapshot(repo).items() if b"s3cr3t" in data]
    assert not leaked, leaked
    assert (repo / "leak.txt").read_text(encoding="utf-8").startswith(f"http://{host}/tpl.git | ")
    objects = subprocess.run(["git", "-C", str(repo), "grep", "-I", "-l", "s3cr3t", "refs/shipyard/base/root"],
                             capture_output=True, text=True)
    assert objects.stdout == "", "the recorded base holds the token"


def test_update_from_a_git_url_with_a_ref(served, tmp_path):
    import copier

    host, _ = served
    project = tmp_path / "project"
    copier.run_copy(f"http://{host}/tpl.git", project, vcs_ref="v1", defaults=True, quiet=True)
    make_repo(project)
    done = shipyard("update", project, "--yes", "--json", "--to", "v2")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["template"] == f"http://{host}/tpl.git" and report["to_version"] == "v2"
    assert (project / "added.txt").is_file()
    assert "_commit: v2" in (project / ".copier-answers.yml").read_text(encoding="utf-8")


def test_a_local_folder_template_without_git_renders_unversioned(tmp_path):
    template = tagged_template(tmp_path / "tpl")
    folder = tmp_path / "plain"
    subprocess.run(["git", "clone", "-q", str(template), str(folder)], check=True)
    subprocess.run(["rm", "-rf", str(folder / ".git")], check=True)
    from shipyard.render import parse_source, render

    rendered = render(parse_source(str(folder)), {}, tmp_path / "out")
    assert (rendered.folder / "added.txt").is_file() and rendered.version == ""
    assert git(template, "tag").split() == ["v1", "v2"]


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "a.txt").write_text("a\n", encoding="utf-8")
    return path


def test_set_answers_any_template_question_at_adopt_and_is_checked(tmp_path):
    from conftest import copy_example

    repo = copy_example(tmp_path / "repo")
    before = snapshot(repo)
    wrong = shipyard("adopt", repo, "--yes", "--set", "ci_providr=both")
    assert wrong.returncode == 2 and "no such question" in wrong.stderr and "ci_provider" in wrong.stderr
    assert snapshot(repo) == before
    done = shipyard("adopt", repo, "--yes", "--json", "--set", "ci_provider=both", "--set", "catalog_info=true")
    assert done.returncode == 0, done.stderr
    assert (repo / ".gitlab-ci.yml").is_file() and (repo / ".github" / "workflows").is_dir()
    assert (repo / "catalog-info.yaml").is_file()
    answers = (repo / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "ci_provider: both" in answers and "catalog_info: true" in answers
