"""The config: named templates, a company default, trusted sources ([tool.shipyard] and the user file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, copy_example, git, make_repo
from template_fixtures import tagged_template, write


def run(*args: str | Path, cwd: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "generator")}
    if config is not None:
        env["SHIPYARD_CONFIG"] = str(config)
    return subprocess.run([sys.executable, "-m", "shipyard", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL)


def test_a_company_template_named_in_pyproject_is_listed_and_is_the_default(tmp_path):
    tagged_template(tmp_path / "tpl")
    work = tmp_path / "work"
    work.mkdir()
    (work / "pyproject.toml").write_text(
        '[tool.shipyard]\ndefault-template = "acme"\n\n[tool.shipyard.templates]\nacme = "../tpl@v1"\n',
        encoding="utf-8")
    listed = run("template", "list", "--json", cwd=work)
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)["templates"]}
    assert rows["acme"]["default"] and not rows["production"]["default"] and not rows["acme"]["trusted"]
    made = run("new", "svc", "--json", cwd=work)  # no --template: the configured default
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["template_version"] == "v1"
    assert (work / "svc" / "added.txt").exists() is False and (work / "svc" / "removed.txt").is_file()


def test_a_trusted_prefix_in_the_user_config_lets_hooks_run_without_trust(tmp_path):
    template = tmp_path / "platform" / "cookie"
    template.mkdir(parents=True)
    write(template, {"cookiecutter.json": json.dumps({"project_name": "x"}),
                     "{{cookiecutter.project_name}}/README.md": "hi\n",
                     "hooks/post_gen_project.py": "open('HOOK_RAN', 'w').write('yes')\n"})
    make_repo(template)
    config = tmp_path / "config.toml"
    refused = run("new", "a", "--template", template, cwd=tmp_path, config=config)
    assert refused.returncode == 7 and "--trust" in refused.stderr
    config.write_text(f'trusted = ["{tmp_path / "platform"}"]\n', encoding="utf-8")
    done = run("new", "b", "--template", template, cwd=tmp_path, config=config)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "b" / "HOOK_RAN").is_file()
    # a prefix is whole path segments: a sibling folder that merely starts the same is not trusted
    config.write_text(f'trusted = ["{tmp_path / "plat"}"]\n', encoding="utf-8")
    assert run("new", "c", "--template", template, cwd=tmp_path, config=config).returncode == 7


def test_a_broken_config_is_one_line_naming_the_file(tmp_path):
    repo = copy_example(tmp_path / "repo")
    (repo / "pyproject.toml").write_text("[tool.shipyard\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "broken")
    done = run("adopt", ".", "--dry-run", cwd=repo)
    assert done.returncode == 2 and "pyproject.toml cannot be read as TOML" in done.stderr
    assert done.stderr.count("\n") == 1
