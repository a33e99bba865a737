"""Reading the user's data, through the generated project's own reader (the template's `tables.py`).

There is one table reader: the one the generated project runs. Shipyard loads it from the built-in
template (:mod:`shipyard.runtime`) and translates its errors into :class:`InputFileError` naming the
file, so adoption reads the data exactly as training, the contract checks and the service will.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputFileError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

DEFAULT_MAX_ROWS = 200_000


def _tables() -> Any:
    from .runtime import module

    return module("tables")


def sniff_options(path: Path, given: Mapping[str, Any] | None = None, *,
                  from_code: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Read options for ``path``: the notebook's own (``given``) completed, or sniffed (see tables.py)."""
    return _tables().sniff_options(path, given, from_code=from_code)


def load_table(path: Path, options: Mapping[str, Any] | None = None, *,
               max_rows: int | None = DEFAULT_MAX_ROWS) -> pd.DataFrame:
    """The table as the project reads it (at most ``max_rows`` rows; ``attrs["truncated"]`` says so)."""
    tables = _tables()
    path = Path(path)
    shown = str(path)
    if path.is_file() and path.stat().st_size == 0:
        raise InputFileError(f"Data file is empty: {shown}", hint="point --data at a file with rows", path=shown)
    try:
        df = tables.read_table(path, options, limit=max_rows)
    except tables.ProjectError as exc:
        raise InputFileError(exc.message[:1].upper() + exc.message[1:], hint=_hint(path, exc.hint),
                             path=shown) from None
    if len(df) == 0:
        raise InputFileError(f"Data file has a header but no rows: {shown}",
                             hint="a contract is inferred from the rows; use a file with data", path=shown)
    return df


def _hint(path: Path, hint: str) -> str:
    if "not found" in hint or "DATA_PATH" in hint:
        return "check the --data path"
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "is it a valid Excel workbook? (openpyxl reads .xlsx, xlrd reads .xls)"
    if suffix in (".parquet", ".pq"):
        return "is it a valid Parquet file?"
    return "check the notebook's read call, or pass --data a delimited text, Excel, Parquet or JSON file"
