"""From facts and flags to template answers: every choice stated, every one overridable."""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .facts import Evidence, Finding, RepoFacts, Severity

PLACEHOLDER_EMAIL = "owner@example.com"
#: Distributions the production template already depends on.
TEMPLATE_DEPENDENCIES = {
    "mlflow-skinny", "mlflow", "sqlalchemy", "alembic", "pandas", "scikit-learn", "skops", "fastapi",
    "uvicorn", "prometheus-client", "pyyaml", "pyarrow", "matplotlib", "numpy",
}
#: Frameworks the template has a dedicated path for (others go through its generic path).
KNOWN_FRAMEWORKS = {"sklearn", "xgboost", "lightgbm", "statsmodels", "torch", "keras", "tensorflow", "unknown"}
#: Never installable from PyPI, or only useful inside Jupyter.
NOT_RUNTIME = {"google-colab", "ipython", "ipykernel", "jupyter", "notebook", "ipywidgets", "jupyterlab"}


@dataclass(frozen=True, kw_only=True)
class Flags:
    name: str | None = None
    owner: str | None = None
    target: str | None = None
    data: str | None = None
    notebook: str | None = None


def slugify(text: str) -> str:
    """A lowercase Python identifier from any text ('Análise & Churn' -> 'analise_churn')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not slug:
        slug = "ml_project"
    if slug[0].isdigit():
        slug = f"project_{slug}"
    if keyword.iskeyword(slug):
        slug += "_project"
    return slug


def package_name(name: str, facts: RepoFacts) -> tuple[str, str]:
    """The generated package's name and, when it had to change, why."""
    slug = slugify(name)
    taken = set(facts.local_modules) | set(sys.stdlib_module_names) | {i.module for i in facts.imports}
    if slug in taken:
        return f"{slug}_model", f"'{slug}' is already a module name here, so the package is '{slug}_model'"
    return slug, ""


#: Answers a flag overrides, even when a previous adoption recorded them.
_FLAG_KEYS = {"name": ("project_name", "package_name"), "owner": ("owner_email",),
              "target": ("target_column", "target_source", "exclude_columns"),
              "data": ("data_path", "dataset_name", "read_options", "target_source"),
              "notebook": ("notebook_path", "model_variable", "model_class", "model_framework", "model_file",
                           "model_features", "model_target")}


ANSWERS_FILE = ".copier-answers.yml"
#: An answers file is a few kB; anything near this is not one.
MAX_ANSWERS_BYTES = 256 * 1024
#: YAML nodes once aliases are expanded (a "billion laughs" file has few nodes and billions expanded).
MAX_ANSWERS_NODES = 20_000


class Recorded(dict):  # type: ignore[type-arg]
    """Recorded answers (a plain dict of them), with why the file was not usable when it was not."""

    path: Path | None = None
    problem: str = ""  # one line: why the answers file was ignored ("" when read, or when there is none)
    hostile: bool = False  # built to exhaust whoever reads it (an alias bomb, a huge file): refused, not ignored


def recorded_answers(root: Path) -> Recorded:
    """``.copier-answers.yml`` of an earlier adoption as written (copier's ``_`` keys included), empty when none.

    A file that cannot be used (not YAML, not a mapping, too big, an alias bomb, not UTF-8) gives empty
    answers whose ``problem`` says why; :func:`unreadable_finding` turns that into a warning.
    """
    path = root / ANSWERS_FILE
    out = Recorded()
    out.path = path
    if not path.is_file():
        return out
    data, problem = _load_answers(path)
    if problem:
        out.problem = f"{path.name} cannot be used ({problem}); its earlier answers were ignored"
        out.hostile = problem.startswith(_HOSTILE)
        return out
    out.update({k: v for k, v in data.items() if isinstance(k, str)})
    return out


_HOSTILE = ("too big:", "a YAML bomb:", "recursive:", "nested too deeply")


def _load_answers(path: Path) -> tuple[dict[str, Any], str]:
    import yaml

    try:
        size = path.stat().st_size
        if size > MAX_ANSWERS_BYTES:
            return {}, f"too big: {size // 1024} kB, more than an answers file ever is"
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return {}, f"not UTF-8: byte {exc.start}"
    except OSError as exc:
        return {}, exc.strerror or type(exc).__name__
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            count = _expanded_size(node, {}, set())
            if count > MAX_ANSWERS_NODES:
                return {}, f"a YAML bomb: its aliases expand to more than {MAX_ANSWERS_NODES} values"
        data = yaml.safe_load(text)
    except _Recursive:
        return {}, "recursive: an alias refers to itself"
    except RecursionError:
        return {}, "nested too deeply"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return {}, f"not valid YAML{where}"
    if not isinstance(data, dict):
        return {}, "not a mapping of answers"
    return data, ""


class _Recursive(Exception):
    pass


def _expanded_size(node: Any, memo: dict[int, int], active: set[int]) -> int:
    """How many nodes ``node`` stands for once every alias is expanded (memoised, so it is cheap to count)."""
    import yaml

    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise _Recursive
    active.add(key)
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            total += _expanded_size(item, memo, active)
            if total > MAX_ANSWERS_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _expanded_size(k, memo, active) + _expanded_size(v, memo, active)
            if total > MAX_ANSWERS_NODES:
                break
    active.discard(key)
    memo[key] = total
    return total


def unreadable_finding(recorded: dict[str, Any]) -> Finding | None:
    """A warning for an answers file that exists but was ignored (None when it was read or is absent)."""
    problem = getattr(recorded, "problem", "")
    if not problem:
        return None
    return Finding(code="answers-unreadable", severity=Severity.WARNING, evidence=Evidence(path=ANSWERS_FILE),
                   message=f"{problem}: the project's name, owner and choices are inferred afresh; repair it "
                           f"(git diff / git checkout -- {ANSWERS_FILE}) and adopt again to keep them")


def _version_tuple(text: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"v?(\d+(?:\.\d+)*)(?:[+-].*)?", text.strip())
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def _builtin_source(src_path: str) -> bool:
    """Whether ``_src_path`` is the built-in template's cached copy (whose tags are Shipyard versions)."""
    from .render import cache_dir

    path = Path(src_path).expanduser()
    try:
        if path.resolve().parent == (cache_dir() / "templates").resolve():
            return True
    except (OSError, RuntimeError, ValueError):
        return False
    return path.parent.name == "templates" and path.parent.parent.name == "shipyard"


def check_not_newer(recorded: dict[str, Any]) -> None:
    """Refuse a hostile answers file (an alias bomb, a huge file), and answers written by a newer Shipyard (or
    rendered from a newer built-in template): an older Shipyard would silently undo what the newer one
    generated. Raises :class:`InputFileError` (exit 4)."""
    from .errors import InputFileError

    path = getattr(recorded, "path", None)
    shown = str(path) if path is not None else ANSWERS_FILE
    if getattr(recorded, "hostile", False):
        raise InputFileError(f"{shown} is refused: {getattr(recorded, 'problem', '')}",
                             hint=f"restore it from git (git log -p -- {ANSWERS_FILE}; git checkout <commit> -- "
                                  f"{ANSWERS_FILE}) or delete it to adopt afresh", path=shown)
    mine = _version_tuple(__version__) or (0,)
    hint = (f"upgrade Shipyard to at least that version (pip install -U shipyard) and run again; or, if "
            f"{ANSWERS_FILE} was edited by hand, restore it (git checkout -- {ANSWERS_FILE})")
    written = recorded.get("shipyard_version")
    if isinstance(written, str | int | float) and not isinstance(written, bool):
        theirs = _version_tuple(str(written))
        if theirs is not None and theirs > mine:
            raise InputFileError(f"{shown} was written by Shipyard {written}, newer than this Shipyard "
                                 f"{__version__}", hint=hint, path=shown)
    commit, src = recorded.get("_commit"), recorded.get("_src_path")
    if isinstance(commit, str) and isinstance(src, str) and _builtin_source(src):
        theirs = _version_tuple(commit)
        if theirs is not None and theirs > mine:
            raise InputFileError(f"{shown} records the built-in template {commit}, newer than this Shipyard "
                                 f"{__version__}", hint=hint, path=shown)


def previous_answers(recorded: dict[str, Any]) -> dict[str, Any]:
    """The template answers among recorded ones (without copier's own ``_`` keys), names and paths checked.

    Raises :class:`InputFileError` when they were written by a newer Shipyard (see :func:`check_not_newer`).
    """
    check_not_newer(recorded)
    return {k: v for k, v in recorded.items() if not k.startswith("_") and _sane(k, v)}


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def _sane(key: str, value: Any) -> bool:
    """Earlier answers come from a file anyone could have edited: names must still be names, paths paths."""
    from .errors import UnsafePathError
    from .paths import safe_relpath

    if key in ("package_name", "notebook_module", "dataset_name"):
        return isinstance(value, str) and bool(_IDENTIFIER.fullmatch(value)) and not keyword.iskeyword(value)
    if key in ("data_path", "notebook_path") and value:
        try:
            safe_relpath(str(value))
        except UnsafePathError:
            return False
    return True


def merge_previous(answers: dict[str, Any], previous: dict[str, Any], flags_given: set[str]) -> dict[str, Any]:
    """Earlier answers win over fresh inference (the project keeps its name), flags win over both."""
    keep = dict(previous)
    for flag in flags_given:
        for key in _FLAG_KEYS.get(flag, ()):
            keep.pop(key, None)
    for fresh in ("shipyard_version", "large_files"):  # facts of this run, never carried over
        keep.pop(fresh, None)
    return {**answers, **keep}


def derive(facts: RepoFacts, root: Path, flags: Flags, *, git_email: str, git_name: str,
           recorded: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[Finding]]:
    """Template answers for ``facts``, plus findings about the choices made."""
    findings: list[Finding] = []
    unreadable = unreadable_finding(recorded if recorded is not None else {})
    if unreadable is not None:
        findings.append(unreadable)
    project = flags.name or root.name
    previous = previous_answers(recorded or {})
    pkg, why = package_name(project, facts)
    if previous.get("package_name") and not flags.name and previous["package_name"] != pkg:
        pkg, why = str(previous["package_name"]), ""  # the project keeps the name it was adopted with
    if why:
        findings.append(Finding(code="package-renamed", severity=Severity.INFO, message=why))
    owner = flags.owner or previous.get("owner_email") or git_email
    if not owner:
        owner = PLACEHOLDER_EMAIL
        findings.append(Finding(
            code="placeholder-owner", severity=Severity.WARNING, evidence=Evidence(path="OWNERSHIP.yaml"),
            message="no owner given and no git user.email set: OWNERSHIP.yaml and CODEOWNERS name a "
                    "placeholder; rerun with --owner EMAIL or edit them",
        ))
    data_path = facts.data_file.value if facts.data_file else ""
    target = facts.target.value if facts.target else ""
    model = facts.model
    # Only what the training code imports, and never what the template provides or a notebook-only tool;
    # pins that cannot be installed were already dropped by inspection (see inspect/dependencies.py).
    deps = sorted(
        {r.project_pip() for r in facts.requirements
         if r.used and r.on_index
         and re.sub(r"[-_.]+", "-", r.distribution).lower() not in TEMPLATE_DEPENDENCIES | NOT_RUNTIME},
        key=str.lower,
    )
    answers: dict[str, Any] = {
        "project_name": project,
        "package_name": pkg,
        "description": f"Model adopted from {facts.training_notebook.value}" if facts.training_notebook
        else "Model adopted from notebooks with Shipyard",
        "owner_email": owner,
        "owner_name": git_name or "TODO: technical owner",
        "notebook_path": facts.training_notebook.value if facts.training_notebook else "",
        "notebook_module": "from_notebook",
        "model_variable": model.variable if model else "",
        "model_class": model.class_name if model else "",
        "model_framework": (model.framework if model and model.framework != "unknown" else "unknown")
        if model else "none",
        "data_path": data_path or "data/train.csv",
        "dataset_name": slugify(Path(data_path).stem) if data_path else "train",
        "read_options": dict(facts.read_options) or {"format": "csv"},
        "target_column": target or "target",
        "target_source": facts.target_source or target or "target",
        "exclude_columns": list(facts.other_targets),
        "model_file": facts.model_file,
        "model_features": model.features_variable if model and model.features_variable.isidentifier() else "",
        "model_target": model.target_variable if model and model.target_variable.isidentifier() else "",
        "task": facts.task if facts.task in ("classification", "regression") else "classification",
        "dependencies": deps,
        "shipyard_version": __version__,
    }
    flags_given = {name for name, value in (("name", flags.name), ("owner", flags.owner),
                                            ("target", flags.target), ("data", flags.data),
                                            ("notebook", flags.notebook)) if value}
    answers = merge_previous(answers, previous, flags_given)
    large = large_files(facts)
    if large:
        answers["large_files"] = large
    from .contracts import datacontract_reads_directly

    answers["contract_snapshot"] = not datacontract_reads_directly(dict(answers["read_options"]), facts.columns)
    if facts.python_version and re.fullmatch(r"3\.(1[0-3])", facts.python_version):
        answers["python_version"] = facts.python_version
    if model is not None and (model.framework in ("torch", "keras", "tensorflow") or model.class_name == "Booster"):
        what = ("a low-level Booster (xgb.train / lgb.train)" if model.class_name == "Booster"
                else f"a {model.framework} model")
        findings.append(Finding(
            code="model-needs-wrapper", severity=Severity.WARNING, evidence=model.evidence,
            message=f"`train` cannot re-fit {what}: wrap it in a class with fit(X, y) and predict(X) in "
                    f"src/{pkg}/from_notebook.py (or use the scikit-learn API, e.g. XGBClassifier); "
                    "`train --baseline` carries the project meanwhile",
        ))
    elif model is not None and model.framework not in KNOWN_FRAMEWORKS:
        findings.append(Finding(
            code="model-framework-generic", severity=Severity.WARNING, evidence=model.evidence,
            message=f"{model.class_name or model.variable} ({model.framework}) has no dedicated path in the template: "
                    "`train` re-fits it through its scikit-learn API (fit/predict/get_params) and logs it with "
                    "MLflow's sklearn flavour (cloudpickle), or as a pyfunc model when it only has predict(); "
                    "check the first `train`",
        ))
    if facts.model_file:
        findings.append(Finding(
            code="model-file", severity=Severity.INFO, evidence=Evidence(path=facts.model_file),
            message=f"the notebook saves its model to {facts.model_file}, which is committed: `train --from-file` "
                    "evaluates and registers that file without re-running the notebook (loading a pickle runs "
                    "code: only a committed, unchanged file is loaded)",
        ))
    if not data_path:
        findings.append(Finding(
            code="no-data", severity=Severity.ERROR,
            message="no data file found: no contract was inferred and train cannot run; add the data "
                    "and rerun with --data FILE",
        ))
    if not target:
        findings.append(Finding(
            code="no-target", severity=Severity.ERROR,
            message="no target column found: the project uses 'target'; rerun with --target COLUMN",
        ))
    if facts.task not in ("classification", "regression"):
        findings.append(Finding(
            code="task-guessed", severity=Severity.WARNING,
            message="could not tell classification from regression; assumed classification "
                    "(edit 'task' in .copier-answers.yml and src settings if wrong)",
        ))
    return answers, findings


#: At most this many large files are listed one by one in ``.dockerignore``.
MAX_LARGE_FILES = 200
_DOCKERIGNORE_SPECIAL = re.compile(r"([\\*?\[\]])")


def large_files(facts: RepoFacts) -> list[str]:
    """``.dockerignore`` lines for the repo's large files (inspection's ``large-file`` findings), sorted.

    Glob characters are escaped, and a path ``.dockerignore`` cannot spell (a line break, leading or
    trailing spaces, a leading ``#`` or ``!``) is left out: its pattern rules would misread it.
    """
    out: set[str] = set()
    for finding in facts.findings:
        path = finding.evidence.path if finding.code == "large-file" and finding.evidence else ""
        if not path or path != path.strip() or path[0] in "#!" or any(ord(c) < 32 or c == "\x7f" for c in path):
            continue
        out.add(_DOCKERIGNORE_SPECIAL.sub(r"\\\1", path))
    return sorted(out)[:MAX_LARGE_FILES]
