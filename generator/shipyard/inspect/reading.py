"""How the project reads its training data: the notebook's read call, completed or sniffed, and a peek.

The options are those of the training notebook's own read call (``sep``, ``header``, ``names``,
``encoding``, ``decimal``, ``skiprows``, ``sheet_name`` ...), completed with what the file needs to be
read at all; without a read call the file is sniffed once. Both go through the generated project's
own reader (the template's ``tables.py``), so what inspection sees is what training will read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputFileError
from ..facts import DataRef, Evidence, Finding, Severity

PEEK_ROWS = 2000


def read_options(root: Path, data: str, ref: DataRef | None) -> tuple[dict[str, Any], list[Finding]]:
    """The READ_OPTIONS of the generated project for ``data`` (repo-relative), with findings."""
    from ..datafiles import sniff_options

    findings: list[Finding] = []
    from_code = ref is not None and bool(ref.format)
    given = {"format": ref.format, **dict(ref.options)} if from_code and ref is not None else None
    options, notes = sniff_options(root / data, given, from_code=from_code)
    where = ref.evidence if ref is not None else Evidence(path=data)
    if from_code and ref is not None:
        shown = ", ".join(f"{k}={v!r}" for k, v in ref.options) or "no options"
        message = (f"the project reads {data} as {ref.evidence.path} cell {ref.evidence.cell} does "
                   f"({ref.call} with {shown})")
        if notes:
            message += "; added: " + ", ".join(notes)
        findings.append(Finding(code="read-options", severity=Severity.INFO, evidence=where, message=message))
        for name in ref.unresolved_options:
            findings.append(Finding(
                code="read-option-unresolved", severity=Severity.WARNING, evidence=ref.evidence,
                message=f"{ref.evidence.path} cell {ref.evidence.cell} passes {name}= to {ref.call} as an "
                        f"expression Shipyard cannot evaluate; the project reads {data} without it: set "
                        f"READ_OPTIONS[{name!r}] in settings.py if it matters",
            ))
    else:
        found = ", ".join(notes) if notes else "a plain file (no options needed)"
        findings.append(Finding(
            code="read-options", severity=Severity.INFO, evidence=where,
            message=f"no notebook read call for {data}; sniffed it once: {found} "
                    "(READ_OPTIONS in settings.py; edit them there if the file reads differently)",
        ))
    return options, findings


def peek(root: Path, data: str, options: dict[str, Any], rows: int = PEEK_ROWS) -> tuple[Any, list[Finding]]:
    """The first ``rows`` rows as the project reads them, or None with an error finding."""
    from ..datafiles import load_table

    try:
        return load_table(root / data, options, max_rows=rows), []
    except InputFileError as exc:
        return None, [Finding(code="data-unreadable", severity=Severity.ERROR, evidence=Evidence(path=data),
                              message=f"{exc.one_line()}: no contract can be inferred and train cannot read it")]


def target_values(frame: Any, column: str | None) -> list[object] | None:
    """The target's values in the peeked rows as plain Python objects (None when not a column)."""
    if frame is None or not column or column not in frame.columns:
        return None
    return frame[column].head(1000).tolist()
