"""Read-only inspection of a notebook-stage repository: :func:`inspect_repo` returns :class:`RepoFacts`.

Never writes, never prints, never imports heavy libraries. Every fact carries its evidence
(repo-relative POSIX path, 1-based cell, 1-based line within the cell).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from ..errors import InputFileError, NoNotebooksError
from ..facts import SEVERITY_ORDER, Evidence, Finding, RepoFacts, Severity
from ._walk import RepoFiles, data_format, walk
from .choose import choose_data, choose_model, choose_target, choose_task, choose_training_notebook
from .data import data_files, positional_row_drops, scan_data
from .dependencies import build_requirements
from .imports import scan_imports
from .model import NotebookModel, fitted_on_array, scan_models
from .notebooks import ReadNotebook, cell_parses, neutralise, read_notebook
from .reading import peek, read_options, target_values
from .requirements import declared_requirements
from .saved import choose_model_file, saved_models

__all__ = ["inspect_repo", "neutralise", "cell_parses"]


def _user_path(root: Path, given: str, files: RepoFiles, what: str, flag: str) -> str:
    """Normalise a path given with a flag to a repo-relative POSIX path that exists, else raise."""
    path = Path(given)
    if path.is_absolute():
        try:
            rel = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            raise InputFileError(
                f"{what} {given} is outside the repository {root}",
                hint=f"pass {flag} a path relative to the repo root",
                path=given,
            ) from None
    else:
        rel = posixpath.normpath(given.replace(os.sep, "/"))
        if rel == ".." or rel.startswith("../"):
            raise InputFileError(
                f"{what} {given} is outside the repository {root}",
                hint=f"copy it into the repository and pass {flag} its path there",
                path=given,
            )
    found = files.lookup(rel)
    if found is None or rel.startswith("../"):
        if rel.startswith("../") or not (root / rel).is_file():
            examples = ", ".join((files.notebooks if flag == "--notebook" else files.data_files)[:5])
            raise InputFileError(
                f"{what} not found: {given}",
                hint=f"pass {flag} a file path relative to {root}"
                + (f" (found: {examples})" if examples else ""),
                path=given,
            )
        found = rel
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(root / found)]) != real_root:
        raise InputFileError(
            f"{what} {given} is a symlink to a file outside the repository; it is not read",
            hint=f"copy the file into the repository and pass {flag} its path there",
            path=given,
        )
    return found


def inspect_repo(
    root: Path,
    *,
    notebook: str | None = None,
    data: str | None = None,
    target: str | None = None,
    exclude: frozenset[str] = frozenset(),
) -> RepoFacts:
    """Inspect ``root`` (read-only). ``notebook``/``data`` (repo-relative) and ``target`` override choices.

    Raises :class:`NoNotebooksError` when there is no notebook, :class:`InputFileError` when a given
    ``notebook`` or ``data`` file does not exist (or the notebook cannot be read).
    """
    root = Path(root)
    if not root.is_dir():
        raise InputFileError(
            f"{root} is not a directory", hint="pass the path of the repository", path=str(root)
        )
    files = walk(root, exclude)
    if notebook:
        notebook = _user_path(root, notebook, files, "notebook", "--notebook")
        if not notebook.lower().endswith(".ipynb"):
            raise InputFileError(
                f"{notebook} is not a notebook (.ipynb)", hint="pass --notebook an .ipynb file", path=notebook
            )
        if notebook not in files.notebooks:
            files.notebooks.append(notebook)
    if data:
        data = _user_path(root, data, files, "data file", "--data")
        if data_format(data) is None:
            raise InputFileError(
                f"{data} is not a data file Shipyard can read",
                hint="pass --data a .csv, .tsv, .parquet, .json/.jsonl or Excel file",
                path=data,
            )
    if not files.notebooks:
        raise NoNotebooksError(
            f"no notebooks found in {root}",
            hint="run it in a repository with .ipynb files (.ipynb_checkpoints, virtualenvs and hidden "
            "folders are skipped)",
            path=str(root),
        )
    findings: list[Finding] = []
    notebooks: list[ReadNotebook] = []
    for rel in files.notebooks:
        read, problems = read_notebook(root, rel)
        findings.extend(problems)
        if read is not None:
            notebooks.append(read)
            findings.extend(read.findings)
        elif rel == notebook:
            raise InputFileError(
                problems[0].message if problems else f"{rel} cannot be read",
                hint="fix the notebook or choose another with --notebook",
                path=rel,
            )

    scan = scan_imports(root, notebooks, files)
    findings.extend(scan.findings)
    declared = declared_requirements(root, list(files.sizes))
    findings.extend(declared.findings)

    data_scan = scan_data(notebooks, files, root)
    findings.extend(data_scan.findings)
    findings.extend(positional_row_drops(notebooks))

    models: list[NotebookModel] = [scan_models(nb) for nb in notebooks]
    by_path = {m.path: m for m in models}
    training = choose_training_notebook(models, notebook)
    # Only what the training notebook runs (and the repo modules it imports) is a project dependency.
    requirements, pin_findings = build_requirements(
        scan, declared, notebook=training.value if training else None, python_version=declared.python_version
    )
    findings.extend(pin_findings)
    nbm = by_path.get(training.value) if training else None
    read = next((nb for nb in notebooks if training and nb.path == training.value), None)
    saved = saved_models(read, files) if read is not None else []
    fitted = {f.fit.variable for f in (nbm.fits if nbm else [])}
    kept = [s for s in saved if s.variable in fitted]
    chosen, model_choice = (choose_model(nbm, (kept[-1].variable, kept[-1].path, kept[-1].cell) if kept else None)
                            if nbm else (None, None))
    model_file = choose_model_file(saved, chosen.fit.variable) if chosen else ""
    array = fitted_on_array(nbm, chosen) if nbm is not None and chosen is not None else ""
    if chosen is None:
        where = f" in {training.value}" if training else ""
        findings.append(
            Finding(
                code="no-model",
                severity=Severity.WARNING,
                evidence=Evidence(path=training.value) if training else None,
                message=f"no model is trained{where} (only exploration found); "
                f"`train --baseline` will carry the "
                "project until a model is added",
            )
        )
    elif array:
        findings.append(Finding(
            code="model-fitted-on-array", severity=Severity.WARNING, evidence=chosen.fit.evidence,
            message=f"{chosen.fit.variable} is fitted on {array}, an array without column names: `train` cannot "
                    "tell which columns a prediction request must carry. Fit a scikit-learn Pipeline (the "
                    "transformer and the model) on the DataFrame in the module; until then `train --baseline`",
        ))
    if chosen is not None and model_choice is not None and model_choice.ambiguous:
        findings.append(
            Finding(
                code="several-models",
                severity=Severity.INFO,
                evidence=model_choice.evidence,
                message=f"{model_choice.reason}; took {chosen.fit.variable or 'the last one'}",
            )
        )
    frame = ""
    if nbm is not None and chosen is not None:
        from .choose import target_candidates

        hints = target_candidates(nbm, chosen)
        frame = hints[0].frame if hints else ""
    data_choice, data_ref = choose_data(files, data_scan, data, training.value if training else None, nbm, frame)
    options: dict[str, object] = {}
    sample = None
    if data_choice is not None:
        options, read_findings = read_options(root, data_choice.value, data_ref)
        sample, peek_findings = peek(root, data_choice.value, options)
        findings.extend(read_findings + peek_findings)
    columns = [str(c) for c in sample.columns] if sample is not None else None
    target_choice, target_findings, other_targets = choose_target(
        columns, target, nbm, chosen, data_choice.value if data_choice else None
    )
    findings.extend(target_findings)
    source = target_source(target_choice.value if target_choice else "", columns, nbm)
    task = choose_task(chosen, target_values(sample, source))

    if declared.python_version and _older_than(declared.python_version, (3, 9)):
        findings.append(
            Finding(
                code="old-python",
                severity=Severity.INFO,
                evidence=Evidence(path=declared.python_source),
                message=f"{declared.python_source} declares Python {declared.python_version}; "
                "the generated project "
                "runs on a current Python 3",
            )
        )
    for link in files.outside_links:
        findings.append(
            Finding(
                code="symlink-outside",
                severity=Severity.INFO,
                evidence=Evidence(path=link),
                message=f"{link} is a symlink pointing outside the repository; it was not read",
            )
        )
    for big in files.large():
        findings.append(
            Finding(
                code="large-file",
                severity=Severity.INFO,
                evidence=Evidence(path=big),
                message=f"{big} is {files.sizes[big] / 1e6:.0f} MB: kept out of the image build context "
                "(.dockerignore)",
            )
        )
    if files.truncated:
        findings.append(
            Finding(
                code="repo-truncated",
                severity=Severity.WARNING,
                message="the repository has too many files; only the first ones were inspected",
            )
        )
    findings.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    return RepoFacts(
        root=str(root.resolve()),
        notebooks=tuple(nb.notebook for nb in notebooks),
        imports=tuple(scan.imports),
        requirements=tuple(requirements),
        local_modules=tuple(sorted(scan.local_modules)),
        data_files=tuple(data_files(files)),
        data_refs=tuple(data_scan.refs),
        model_fits=tuple((m.path, f.fit) for m in models for f in m.fits),
        training_notebook=training,
        model=chosen.fit if chosen else None,
        data_file=data_choice,
        target=target_choice,
        task=task,
        python_version=declared.python_version,
        findings=tuple(findings),
        model_choice=model_choice,
        read_options=tuple(options.items()),
        target_source=source,
        columns=tuple(columns or ()),
        model_file=model_file,
        model_files=tuple((s.variable, s.path) for s in saved),
        other_targets=other_targets,
        made_columns=tuple((name, made.cell or 0) for name, made in (nbm.created_columns.items() if nbm else [])
                           if columns is not None and name not in columns
                           and name != (target_choice.value if target_choice else "")),
    )


def target_source(target: str, columns: list[str] | None, nbm: NotebookModel | None) -> str:
    """The column of the data the target comes from: itself, or what the notebook derives it from
    (``df["y"] = df.label.map(...)``, a rename, or ``df.columns = [...]`` naming it by position)."""
    if not target or columns is None:
        return target
    seen: set[str] = set()
    column = target
    while column not in columns and column not in seen:
        seen.add(column)
        if nbm is not None and column in nbm.column_sources:
            column = nbm.column_sources[column]
            continue
        renamed = [names for names in (nbm.column_lists if nbm else []) if column in names and len(names) == len(columns)]
        if renamed:
            column = columns[renamed[0].index(column)]
            continue
        # `df.columns = df.columns.str.strip()` (or .lower()): the same name, spelt as the file has it
        spelt = [c for c in columns if _plain(c) == _plain(column)]
        return spelt[0] if len(spelt) == 1 else ""
    return column if column in columns else ""


def _plain(name: str) -> str:
    return " ".join(str(name).split()).lower().replace(" ", "_")


def _older_than(version: str, floor: tuple[int, ...]) -> bool:
    try:
        parts = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        return False
    return parts < floor
