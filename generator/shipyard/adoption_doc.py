"""ADOPTION.md: what adopt found, what it generated, what needs a human, most important first.

The text depends only on facts, answers and the plan's *set* of paths (not on
whether a file was created now or already identical), so a second adopt on
an adopted repo produces the same bytes and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .facts import Finding, Requirement, Severity
from .plan import CRITICAL_CONFLICTS, Action

if TYPE_CHECKING:
    from .adopt import Prepared

_ICON = {Severity.ERROR: "**Must fix**", Severity.WARNING: "Check", Severity.INFO: "Note"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _finding_line(f: Finding) -> str:
    where = f" — `{f.evidence.where()}`" if f.evidence else ""
    return f"- {_ICON[f.severity]} ({f.code}){where}: {f.message}"


def _dependency_line(r: Requirement) -> str:
    """What became of one requirement in the generated project, said out loud."""
    import re

    from .answers import NOT_RUNTIME, TEMPLATE_DEPENDENCIES

    line = f"- `{r.declared()}`" + (f" (from {r.source})" if r.source else "")
    if r.declared_as:
        line += f", a name that stands for `{r.distribution}`"
    name = re.sub(r"[-_.]+", "-", r.distribution).lower()
    why = f" ({'offline rule: ' if r.pin_by_rule else ''}{r.pin_reason})" if r.pin_reason else ""
    if name in NOT_RUNTIME:
        return line + ": notebook-only, not installed by the project"
    if name in TEMPLATE_DEPENDENCIES:
        return line + (": the project uses the template's current requirement instead of this pin"
                       if r.specifier else ": provided by the template")
    if not r.used:
        if r.optional:
            return line + ": an optional import of the training code (inside `try: ... except ImportError`): " \
                          "not installed"
        return line + (": imported only by other notebooks, not by the training code: not installed" if r.modules
                       else ": declared but not imported by the training code: not installed")
    if not r.on_index:
        return line + f": not installed{why}; install it from where it comes from"
    if r.pin_dropped:
        return line + f": pin dropped{why}, so the project asks for `{r.project_pip()}`"
    return line + f": in `pyproject.toml` as `{r.project_pip()}`{why}"


def _dependency_section(p: Prepared) -> list[str]:
    from .inspect.pins import DEFAULT_PYTHON

    python = p.answers.get("python_version") or DEFAULT_PYTHON
    return [
        "", "### Dependencies: what became of every requirement", "",
        "Only distributions imported by the training notebook (or by the modules of this repository it "
        "imports) go into `pyproject.toml`. A declared pin is kept when the package index has a release it "
        f"admits that installs on Python {python} (Linux x86_64); otherwise the project asks for the bare name.",
        "",
    ] + ([_dependency_line(r) for r in p.facts.requirements] or ["- none"])


def _modernised_section(p: Prepared) -> list[str]:
    """Every rewrite made in the notebook module (``modernised`` findings), in cell order."""
    rewrites = sorted((x for x in p.findings if x.code == "modernised" and x.evidence),
                      key=lambda x: (x.path or "", x.evidence.cell or 0, x.evidence.line or 0))
    if not rewrites:
        return []
    module = f"src/{p.answers['package_name']}/{p.answers.get('notebook_module') or 'from_notebook'}.py"
    return [
        "", "### Modernised in the module", "",
        f"Where a safe rewrite exists, `{module}` uses current APIs and Python 3 instead of what the notebook "
        "wrote; each changed line ends with `# [shipyard] was: <the line as written>`. The notebook is unchanged.",
        "",
    ] + [f"- `{x.evidence.where()}`: {x.message}" for x in rewrites if x.evidence]


def _reading_section(p: Prepared) -> list[str]:
    """How the project reads the data, the column the target comes from, the columns the notebook makes."""
    f, a = p.facts, p.answers
    if f.data_file is None:
        return []
    options = ", ".join(f"{k}={v!r}" for k, v in dict(a.get("read_options") or {}).items())
    lines = ["", "### How the project reads the data", "",
             f"`READ_OPTIONS` in `src/{a['package_name']}/settings.py`: `{options}`. Training, the contract "
             "checks, drift, batch scoring and the tests all read the data that way; edit it there if the file "
             "reads differently."]
    if a.get("target_source") and a["target_source"] != a["target_column"]:
        lines.append(f"The notebook derives the target `{a['target_column']}` from the column "
                     f"`{a['target_source']}` of the data: the contract tags `{a['target_source']}`, and the "
                     "baseline predicts it when it cannot use the notebook's rows.")
    if f.made_columns:
        made = ", ".join(f"`{name}` (cell {cell})" for name, cell in f.made_columns[:20])
        lines.append(f"Columns the notebook makes: {made}. When the model uses one, a prediction request must "
                     "carry it, computed as the notebook does: `GET /schema` of the service lists the columns "
                     "and marks those as derived.")
    return lines


def render_adoption(p: Prepared) -> str:
    f, a = p.facts, p.answers
    pkg = a["package_name"]
    lines: list[str] = [
        f"# Adoption report: {a['project_name']}",
        "",
        f"Generated by `shipyard adopt` (template `{p.source.display()}` {p.template_version}). "
        "Your notebooks and data were not changed. This file is yours: edit or delete it.",
        "",
        "## Needs your attention",
        "",
    ]
    conflicts = [op for op in p.plan.ops if op.action is Action.CONFLICT]
    skipped = [op for op in p.plan.ops if op.action is Action.SKIP]
    attention = [x for x in p.findings if x.severity is not Severity.INFO]
    if not attention and not conflicts and not skipped:
        lines.append("Nothing: every choice below was unambiguous. Review them anyway.")
    lines += [_finding_line(x) for x in attention if x.severity is Severity.ERROR]
    for op in sorted(conflicts, key=lambda op: str(op.path) not in CRITICAL_CONFLICTS):
        why = CRITICAL_CONFLICTS.get(str(op.path))
        lines.append(f"- {'**Must fix**' if why else 'Check'} (conflict) — `{op.path}`: you already have a "
                     f"different file, kept as is" + (f", but {why}" if why else "") + ". Merge by hand, or "
                     f"rerun with `--force {op.path}` (your file is backed up first).")
    lines += [f"- Check (skipped) — `{op.path}`: {op.reason}." for op in skipped]
    lines += [_finding_line(x) for x in attention if x.severity is Severity.WARNING]
    lines += ["", "## What was found", ""]
    lines.append("| Fact | Value | Why | Override |")
    lines.append("|---|---|---|---|")
    for label, choice in (("Training notebook", f.training_notebook), ("Data", f.data_file),
                          ("Target column", f.target)):
        if choice is None:
            lines.append(f"| {label} | (none found) | | |")
        else:
            lines.append(f"| {label} | `{_cell(choice.value)}` | {_cell(choice.reason)} | `{choice.flag}` |")
    if f.model is not None:
        m = f.model
        reason = f.model_choice.reason if f.model_choice else f"last estimator fitted, {m.evidence.where()}"
        lines.append(f"| Model | `{m.variable}` = {m.class_name or '?'} ({m.framework}) | {_cell(reason)} | "
                     "`--model` |")
    else:
        lines.append("| Model | (none trained in the notebooks) | | `train --baseline` carries the project |")
    lines.append(f"| Task | {f.task} | | |")
    lines += ["", "### Notebooks", ""]
    for nb in f.notebooks:
        kernel = f", kernel `{nb.kernel}`" if nb.kernel else ""
        bad = sum(1 for c in nb.code_cells if not c.parses)
        extra = f", {bad} cell(s) not Python 3" if bad else ""
        lines.append(f"- `{nb.path}`: nbformat {nb.nbformat}.{nb.nbformat_minor}{kernel}, "
                     f"{len(nb.code_cells)} code cells{extra}")
    lines += ["", "### Data files", ""]
    lines += [f"- `{d.path}` ({d.format}, {d.size_bytes:,} bytes)" for d in f.data_files] or ["- none"]
    if p.readiness is not None:
        lines += [""] + p.readiness.markdown()[:-1]
    lines += _reading_section(p)
    lines += _dependency_section(p)
    lines += _modernised_section(p)
    # the rewrites have their own section; a removed API they settled is told there too
    notes = [x for x in p.findings if x.severity is Severity.INFO and x.code not in ("modernised", "removed-api")]
    if notes:
        lines += ["", "### Notes", ""] + [_finding_line(x) for x in notes]
    generated = sorted({str(op.path) for op in p.plan.ops if op.action is not Action.SKIP} | {"ADOPTION.md"})
    lines += ["", "## What was generated", ""]
    lines += [f"- `{path}`" + (" (conflict: yours kept)" if any(str(c.path) == path for c in conflicts) else "")
              for path in generated]
    lines += [
        "",
        "## Next steps",
        "",
        "```bash",
        "git add -A && git commit -m 'Adopt with shipyard'",
        "python -m venv .venv && .venv/bin/pip install -e '.[dev]'",
        f".venv/bin/python -m {pkg} train            # or: train --baseline",
        f".venv/bin/python -m {pkg} promote",
        f".venv/bin/python -m {pkg} serve            # http://127.0.0.1:8000/docs",
        "```",
        "",
        "When the template moves on, update with `shipyard update` (3-way: your edits are kept; `--dry-run` previews).",
        "",
    ]
    return "\n".join(lines)
