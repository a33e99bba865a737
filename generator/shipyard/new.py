"""The new workflow: a fresh project from a template, for a team that has no notebook yet.

answers (the template's defaults, the name, the owner, ``--set``) -> render (staging) -> plan (all
creates) -> apply into a new git repository -> base recorded -> first commit. Library only.
Nothing is left behind on failure: the folder did not exist (or was empty) and is removed again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import base as base_store
from . import gitinfo
from .answers import PLACEHOLDER_EMAIL, slugify
from .apply import apply_plan
from .errors import ShipyardError, UsageError
from .plan import collect_staged, make_plan
from .render import parse_source, parse_values, render, template_questions


@dataclass(frozen=True, kw_only=True)
class NewOptions:
    name: str
    path: Path | None = None  # default: ./NAME
    template: str | None = None
    owner: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    trust: bool = False


@dataclass(frozen=True, kw_only=True)
class NewResult:
    root: Path
    template: str
    version: str
    files: tuple[str, ...]
    committed: bool

    def to_json(self) -> dict[str, Any]:
        return {"root": str(self.root), "template": self.template, "template_version": self.version,
                "files": list(self.files), "committed": self.committed}


def _answers(opts: NewOptions, questions: Mapping[str, str] | None, owner: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    known = questions or {}
    if questions is None or "project_name" in known:
        answers["project_name"] = opts.name
    if questions is None or "package_name" in known:
        answers["package_name"] = slugify(opts.name)
    if "owner_email" in known:
        answers["owner_email"] = owner
    if "description" in known:
        answers["description"] = f"{opts.name}: a model project started with Shipyard"
    return {**answers, **parse_values(opts.values, questions)}


def new(opts: NewOptions) -> NewResult:
    if not opts.name.strip() or "/" in opts.name or opts.name.startswith((".", "-")):
        raise UsageError(f"{opts.name!r} is not a project name", hint="give a plain name such as churn-model")
    root = (opts.path or Path(opts.name)).resolve()
    existed = root.exists()
    if existed and (not root.is_dir() or any(root.iterdir())):
        raise UsageError(f"{root} exists and is not empty", hint="choose a new folder, or adopt an existing repo "
                                                                 "with shipyard adopt")
    source = parse_source(opts.template)
    owner = opts.owner or gitinfo.user_email(Path.cwd()) or PLACEHOLDER_EMAIL
    answers = _answers(opts, template_questions(source), owner)
    staging = Path(tempfile.mkdtemp(prefix="shipyard-new-"))
    try:
        rendered = render(source, answers, staging / "render", trust=opts.trust)
        staged = collect_staged(rendered.folder)
        root.mkdir(parents=True, exist_ok=True)
        _git(root, "init", "-q", "-b", "main")
        plan = make_plan(root, staged)
        applied = apply_plan(plan, backup_stamp="new")
        base_store.record(root, staged, source=source.display(), version=rendered.version)
        committed = _first_commit(root, f"Start {opts.name} from template {source.display()} {rendered.version}")
    except BaseException:
        if existed:
            for child in root.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            shutil.rmtree(root, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return NewResult(root=root, template=source.display(), version=rendered.version, files=applied.written,
                     committed=committed)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise ShipyardError(f"git {args[0]} failed in {root}: {done.stderr.strip()[:200]}",
                            hint="check that git works here")
    return done


def _first_commit(root: Path, message: str) -> bool:
    """Commit everything when git knows who you are; otherwise leave it for you to commit."""
    if not (gitinfo.user_email(root) or os.environ.get("GIT_AUTHOR_EMAIL")):
        return False
    _git(root, "add", "-A")
    _git(root, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message)
    return True
