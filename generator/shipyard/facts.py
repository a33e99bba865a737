"""Plain, frozen facts about a repository, each with its evidence.

Inspection (:mod:`shipyard.inspect`) produces these; every other command
(adopt, update, doctor) consumes them. They are data only: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    """How urgently a finding needs a human, most important first."""

    ERROR = "error"  # adoption works, but the generated project cannot run this as is
    WARNING = "warning"  # needs a human decision or edit
    INFO = "info"  # stated for the record


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """Where a fact comes from: a repo-relative POSIX path, and optionally cell and line.

    ``cell`` is the 1-based index among *all* cells of the notebook (as Jupyter shows it);
    ``line`` is 1-based within that cell (or within the file for non-notebooks).
    """

    path: str
    cell: int | None = None
    line: int | None = None
    snippet: str = ""

    def where(self) -> str:
        text = self.path
        if self.cell is not None:
            text += f", cell {self.cell}"
        if self.line is not None:
            text += f", line {self.line}"
        return text


@dataclass(frozen=True, kw_only=True)
class Finding:
    """Something the user should know. ``code`` is stable and machine-readable (kebab-case)."""

    code: str
    message: str
    severity: Severity = Severity.WARNING
    evidence: Evidence | None = None

    @property
    def path(self) -> str | None:
        return self.evidence.path if self.evidence else None

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "severity": self.severity.value,
            "path": self.path,
            "cell": self.evidence.cell if self.evidence else None,
            "line": self.evidence.line if self.evidence else None,
        }


@dataclass(frozen=True, kw_only=True)
class CodeCell:
    """A code cell as written (source untouched), with its 1-based cell index."""

    index: int
    source: str
    parses: bool  # parses as Python 3 after magics are neutralised
    error: str = ""  # the SyntaxError message when it does not parse


@dataclass(frozen=True, kw_only=True)
class Notebook:
    path: str  # repo-relative POSIX path
    nbformat: int  # 3 or 4
    nbformat_minor: int
    kernel: str  # kernelspec name, "" when absent
    language: str  # "python", "R", ... ("" when unknown)
    cells: int  # number of cells of all types
    code_cells: tuple[CodeCell, ...]
    size_bytes: int
    magics: tuple[Evidence, ...] = ()  # %magic / !shell / automagic lines


@dataclass(frozen=True, kw_only=True)
class Import:
    module: str  # top-level module name as imported: "sklearn"
    distribution: str | None  # PyPI distribution, None for stdlib/local
    kind: str  # "third-party" | "stdlib" | "local"
    evidence: Evidence


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """A PyPI distribution the notebooks import or the repo declares, and what the project makes of it."""

    distribution: str  # "scikit-learn" (a declared alias such as "sklearn" is replaced by the real name)
    specifier: str = ""  # as declared: "==1.2.0", ">=1.3" or ""
    source: str = ""  # file the pin came from ("requirements.txt", "environment.yml", ...)
    modules: tuple[str, ...] = ()  # import names that led here (in any notebook or local module)
    # True when the code the project runs imports it: the training notebook and the repo's modules it
    # imports, transitively. Only these are project dependencies; the others are reported, not installed.
    used: bool = True
    optional: bool = False  # the code the project runs imports it only inside ``try: ... except ImportError``
    # True when the declared pin is not carried into the project: it cannot be installed on the project's
    # Python (or, for a distribution the template provides, it is years old). ``specifier`` keeps it as
    # declared; the project asks for the bare distribution (see ``project_pip``).
    pin_dropped: bool = False
    pin_reason: str = ""  # why the pin was kept or dropped ("1.8.0 has no wheel for CPython 3.11 ...")
    pin_by_rule: bool = False  # decided offline by rule, not by asking the package index
    # False when the package index has no project of that name: not written into pyproject.toml.
    on_index: bool = True
    declared_as: str = ""  # the name as declared when it was an alias ("sklearn"), else ""

    def pip(self) -> str:
        return f"{self.distribution}{self.specifier}"

    def declared(self) -> str:
        """The requirement as the repo declares it (``sklearn==0.19``)."""
        return f"{self.declared_as or self.distribution}{self.specifier}"

    def project_pip(self) -> str:
        """The requirement line for the generated project: a dropped pin becomes the bare name."""
        return self.distribution if self.pin_dropped else self.pip()


@dataclass(frozen=True, kw_only=True)
class DataFile:
    path: str  # repo-relative POSIX path
    format: str  # "csv" | "tsv" | "parquet" | "json" | "excel" | "other"
    size_bytes: int


@dataclass(frozen=True, kw_only=True)
class DataRef:
    """A data path a notebook reads (``pd.read_csv("...")`` and friends)."""

    literal: str  # the string exactly as written in the code
    call: str  # "read_csv", "read_parquet", "open", ...
    kind: str  # "relative" | "absolute" | "foreign" (Windows/Colab/home) | "url"
    resolved: str | None  # repo-relative path of the matching file, None when missing
    reason: str  # how it was resolved ("exact path", "matched by file name", "not found")
    evidence: Evidence
    # The argument's source text when it is not a single string literal (``os.path.join("data", f)``,
    # f-strings, names): ``literal`` then holds the evaluated path, which is not in the source.
    expression: str = ""
    # The read call's other arguments as the notebook wrote them (``sep=";"``, ``header=None``,
    # ``names=[...]``, ``sheet_name=...``), evaluated when they are literals; ``format`` is the reader
    # family ("csv", "excel", "parquet", "json"; "" for calls the project cannot read).
    options: tuple[tuple[str, object], ...] = ()
    unresolved_options: tuple[str, ...] = ()  # arguments that are not literals (``names=cols``)
    format: str = ""


@dataclass(frozen=True, kw_only=True)
class ModelFit:
    """A ``<var>.fit(...)`` call on an estimator (or an equivalent training call)."""

    variable: str  # "model"
    class_name: str  # "RandomForestClassifier" ("" when unknown)
    framework: str  # "sklearn" | "xgboost" | "lightgbm" | "statsmodels" | "torch" | "keras" | "unknown"
    task: str  # "classification" | "regression" | "unknown"
    features_variable: str  # first argument of fit, "" when unknown
    target_variable: str  # second argument of fit, "" when unknown
    evidence: Evidence


@dataclass(frozen=True, kw_only=True)
class Choice:
    """A decision taken among candidates, with the reason, so it can be reported and overridden."""

    value: str
    reason: str
    flag: str  # the CLI flag that overrides it ("--target")
    candidates: tuple[str, ...] = ()
    evidence: Evidence | None = None

    @property
    def ambiguous(self) -> bool:
        return len(set(self.candidates)) > 1


@dataclass(frozen=True, kw_only=True)
class RepoFacts:
    """Everything inspection learnt about a repository. Frozen, JSON-able, with evidence."""

    root: str  # absolute path of the repo, for display only
    notebooks: tuple[Notebook, ...]
    imports: tuple[Import, ...]
    requirements: tuple[Requirement, ...]
    local_modules: tuple[str, ...]  # importable modules/packages found in the repo
    data_files: tuple[DataFile, ...]
    data_refs: tuple[tuple[str, DataRef], ...]  # (notebook path, ref)
    model_fits: tuple[tuple[str, ModelFit], ...]  # (notebook path, fit) in code order
    training_notebook: Choice | None
    model: ModelFit | None  # the final fitted estimator of the training notebook
    data_file: Choice | None  # the main training data (repo-relative path)
    target: Choice | None  # the target column
    task: str = "unknown"  # "classification" | "regression" | "unknown"
    python_version: str = ""  # declared (environment.yml / pyproject / runtime.txt), "" when none
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    # Why ``model`` was chosen (value = the model variable; candidates = the other fitted estimators).
    model_choice: Choice | None = None
    # How the project reads ``data_file``: the notebook's read call completed, or sniffed (see
    # the template's tables.py). JSON-able values; ``format`` is always there when data was chosen.
    read_options: tuple[tuple[str, object], ...] = ()
    # The raw column the target is computed from when the notebook derives it
    # (``df["y"] = df.label.map(...)`` gives "label"); equals ``target`` when the data holds it.
    target_source: str = ""
    # A model file the training notebook saves that is committed in the repo (``joblib.dump(m, "m.pkl")``),
    # for the chosen model; ``model_files`` has every (variable, path) the training notebook saves.
    model_file: str = ""
    model_files: tuple[tuple[str, str], ...] = ()
    columns: tuple[str, ...] = ()  # the data's columns as the project reads it
    # Columns the training notebook makes that the data file does not have (``df["bmi"] = ...``), with the
    # cell: when the model uses one, a request must carry it computed.
    made_columns: tuple[tuple[str, int], ...] = ()
    # The other outputs of a multi-output fit (``y = df[["a", "b"]]``): never features of the baseline.
    other_targets: tuple[str, ...] = ()

    def notebook(self, path: str) -> Notebook | None:
        return next((nb for nb in self.notebooks if nb.path == path), None)
