"""Run the checks: compute each input once, hand it over by parameter name, score the outcomes."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFileError, UsageError
from . import inputs as I
from .registry import FAMILIES, Check, Outcome, PluginError, Result, all_checks
from .scoring import FamilyScore, band, family_scores, ml_test_score, summary

SCHEMA_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class DoctorConfig:
    """``[tool.shipyard.doctor]`` of pyproject.toml, overridden by the command line."""

    fail_under: float | None = None  # the ML Test Score floor
    fail_under_governance: float | None = None  # percent
    fail_under_delivery: float | None = None  # percent
    select: tuple[str, ...] = ()  # ids, families or fnmatch patterns ("gov-*"); empty: all
    ignore: tuple[str, ...] = ()
    plugins: bool = True
    source: str = ""  # where it was read from

    def wants(self, item: Check) -> bool:
        def hit(patterns: Sequence[str]) -> bool:
            return any(p == item.family or fnmatch.fnmatchcase(item.id, p) for p in patterns)

        return (not self.select or hit(self.select)) and not hit(self.ignore)


_KEYS = {"fail-under": "fail_under", "fail-under-governance": "fail_under_governance",
         "fail-under-delivery": "fail_under_delivery", "select": "select", "ignore": "ignore", "plugins": "plugins"}


def read_config(root: Path) -> DoctorConfig:
    """The ``[tool.shipyard.doctor]`` table of ``root/pyproject.toml`` (defaults when there is none)."""
    from ..config import tomllib

    path = root / "pyproject.toml"
    if not path.is_file():
        return DoctorConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputFileError(f"cannot read {path}: {exc}", hint="fix the TOML syntax", path=str(path)) from exc
    table = data.get("tool", {}).get("shipyard", {}).get("doctor")
    if table is None:
        return DoctorConfig()
    if not isinstance(table, dict):
        raise InputFileError(f"{path}: [tool.shipyard.doctor] must be a table", hint="see docs/doctor.md",
                             path=str(path))
    values: dict[str, Any] = {"source": "pyproject.toml [tool.shipyard.doctor]"}
    for key, value in table.items():
        name = _KEYS.get(key)
        if name is None:
            raise InputFileError(f"{path}: unknown key {key!r} in [tool.shipyard.doctor]",
                                 hint=f"use one of {', '.join(sorted(_KEYS))}", path=str(path))
        if name in ("select", "ignore"):
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise InputFileError(f"{path}: {key} must be a list of check ids or families",
                                     hint='e.g. ignore = ["model-7", "gov-budget"]', path=str(path))
            value = tuple(value)
        elif name == "plugins":
            value = bool(value)
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            raise InputFileError(f"{path}: {key} must be a number", hint=f"e.g. {key} = 2", path=str(path))
        values[name] = value
    return DoctorConfig(**values)


class Context:
    """The inputs of one audit, each computed on first request (by parameter name) and then reused."""

    def __init__(self, root: Path, *, offline: bool) -> None:
        self.root = root
        self.offline = offline
        self._values: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._values:
            provider = PROVIDERS.get(name)
            if provider is None:
                raise KeyError(name)
            self._values[name] = provider(self)
        return self._values[name]


def _ownership(ctx: Context) -> I.YamlDoc | None:
    repo: I.Repo = ctx.get("repo")
    for rel in ("OWNERSHIP.yaml", "OWNERSHIP.yml", "ownership.yaml", ".github/OWNERSHIP.yaml"):
        if repo.exists(rel):
            return next(I.iter_yaml(repo, [rel]), None)
    return None


def _contracts(ctx: Context) -> list[I.YamlDoc]:
    repo: I.Repo = ctx.get("repo")
    paths = repo.glob(r"(^|/)[^/]+\.odcs\.ya?ml$") or [
        p for p in repo.glob(r"(^|/)(contracts?|datacontracts?)/[^/]+\.ya?ml$")]
    return [d for d in I.iter_yaml(repo, paths) if isinstance(d.data, dict) or d.error]  # a broken one is told


def _answers(ctx: Context) -> dict[str, Any]:
    repo: I.Repo = ctx.get("repo")
    if repo.exists(".copier-answers.yml"):
        doc = next(I.iter_yaml(repo, [".copier-answers.yml"]), None)
        if doc is not None and isinstance(doc.data, dict):
            return {"file": ".copier-answers.yml", **doc.data}
    state = I.load_json(repo, ".cruft.json")
    if state:
        ctx_values = state.get("context", {}).get("cookiecutter", {}) if isinstance(state.get("context"), dict) else {}
        return {"file": ".cruft.json", "_src_path": state.get("template", ""), "_commit": state.get("commit", ""),
                **(ctx_values if isinstance(ctx_values, dict) else {})}
    return {}


def _pyproject(ctx: Context) -> dict[str, Any]:
    from ..config import tomllib

    text = ctx.get("repo").text("pyproject.toml")
    if not text:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _package(ctx: Context) -> str:
    """The generated project's package (``python -m <package> ...``), "" for a repo Shipyard did not generate."""
    name = ctx.get("answers").get("package_name")
    return str(name) if name else ""


def _latest_template(ctx: Context) -> str:
    src = str(ctx.get("answers").get("_src_path") or "")
    if not src:
        return ""
    from ..fleet import latest_version

    return latest_version(src, offline=ctx.offline)


PROVIDERS: dict[str, Callable[[Context], Any]] = {
    "root": lambda ctx: ctx.root,
    "repo": lambda ctx: I.Repo.scan(ctx.root),
    "workflows": lambda ctx: I.workflows(ctx.get("repo")),
    "ownership": _ownership,
    "contracts": _contracts,
    "answers": _answers,
    "pyproject": _pyproject,
    "package": _package,
    "latest_template": _latest_template,
    "today": lambda ctx: I.today(),
}


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    check: Check
    outcome: Outcome
    error: str = ""  # the check itself raised: a bug in the check, reported, scored as a failure

    @property
    def score(self) -> float | None:
        from .registry import SCORE

        return SCORE[self.outcome.result]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.check.id, "family": self.check.family, "title": self.check.title,
                "description": self.check.description, "result": self.outcome.result.value, "score": self.score,
                "message": self.outcome.message, "fix": self.outcome.fix, "origin": self.check.origin,
                "error": self.error,
                "evidence": [{"path": e.path, "cell": e.cell, "line": e.line, "snippet": e.snippet}
                             for e in self.outcome.evidence]}


@dataclass(frozen=True, kw_only=True)
class Audit:
    root: Path
    results: tuple[CheckResult, ...]
    families: dict[str, FamilyScore]
    plugin_errors: tuple[PluginError, ...] = ()
    config: DoctorConfig = field(default_factory=DoctorConfig)
    seconds: float = 0.0
    files: int = 0
    notebooks: int = 0

    @property
    def scores(self) -> dict[str, float]:
        return summary(self.families)

    @property
    def ml_test_score(self) -> float | None:
        return ml_test_score(self.families)

    @property
    def band(self) -> str:
        return band(self.ml_test_score)

    def below_floor(self) -> list[str]:
        """Why the audit fails its configured floors (empty when it does not)."""
        out = []
        cfg = self.config
        score = self.ml_test_score
        if cfg.fail_under is not None and score is not None and score < cfg.fail_under:
            out.append(f"ML Test Score {score:g} is below the floor {cfg.fail_under:g}")
        for family, floor in (("governance", cfg.fail_under_governance), ("delivery", cfg.fail_under_delivery)):
            if floor is not None and family in self.families and self.families[family].percent < floor:
                out.append(f"{family} {self.families[family].percent:g}% is below the floor {floor:g}%")
        return out

    def to_json(self) -> dict[str, Any]:
        from .. import __version__

        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "shipyard doctor", "version": __version__},
            "root": str(self.root),
            "files": self.files,
            "notebooks": self.notebooks,
            "checks": [r.to_json() for r in self.results],
            "scores": self.scores,
            "families": {f: s.to_json() for f, s in self.families.items()},
            "band": self.band,
            "floors": {"fail_under": self.config.fail_under,
                       "fail_under_governance": self.config.fail_under_governance,
                       "fail_under_delivery": self.config.fail_under_delivery,
                       "below": self.below_floor()},
            "plugin_errors": [{"name": e.name, "message": e.message} for e in self.plugin_errors],
        }


def audit(root: Path, config: DoctorConfig | None = None, *, offline: bool | None = None,
          repo: I.Repo | None = None, known: dict[str, Any] | None = None) -> Audit:
    """Audit the repository at ``root`` (static: files are read, never run). ``repo`` replaces the walk of
    ``root``: ``adopt`` passes the tree as its plan will leave it. ``known`` holds inputs the caller already
    has (``fleet`` knows each template's latest version)."""
    import os

    started = time.perf_counter()
    root = Path(root)
    if not root.is_dir():
        raise InputFileError(f"no such folder: {root}", hint="give the repository's folder", path=str(root))
    config = config or DoctorConfig()
    checks, plugin_errors = all_checks(plugins=config.plugins)
    chosen = [c for c in checks if config.wants(c)]
    if not chosen:
        raise UsageError("--select/--ignore leave no check to run",
                         hint=f"select ids (data-1), patterns (gov-*) or families ({', '.join(FAMILIES)})")
    if offline is None:
        offline = os.environ.get("SHIPYARD_OFFLINE", "") not in ("", "0")
    ctx = Context(root.resolve(), offline=offline)
    if repo is not None:
        ctx._values["repo"] = repo
    ctx._values.update(known or {})
    results = tuple(_run(item, ctx) for item in chosen)
    families = family_scores((r.check.family, r.outcome.result) for r in results)
    repo: I.Repo = ctx.get("repo")
    return Audit(root=root, results=results, families=families, plugin_errors=tuple(plugin_errors), config=config,
                 seconds=time.perf_counter() - started, files=len(repo.files), notebooks=len(repo.notebooks))


def _run(item: Check, ctx: Context) -> CheckResult:
    try:
        kwargs = {name: ctx.get(name) for name in item.inputs}
    except KeyError as exc:
        return CheckResult(check=item, outcome=Outcome(result=Result.FAIL, message=(
            f"the check asks for an unknown input {exc.args[0]!r} (known: {', '.join(sorted(PROVIDERS))})")),
            error="unknown input")
    try:
        outcome = item.func(**kwargs)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"returned {type(outcome).__name__}, not an Outcome")
    except Exception as exc:  # noqa: BLE001 - a broken check is reported in its row, the audit goes on
        return CheckResult(check=item, outcome=Outcome(result=Result.FAIL, message=(
            f"the check itself failed: {type(exc).__name__}: {str(exc)[:200]} (report it to {item.origin})")),
            error=type(exc).__name__)
    return CheckResult(check=item, outcome=outcome)
