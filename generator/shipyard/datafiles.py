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
#: Readers that cannot stop early (a JSON array, an Excel workbook) refuse files above this size.
MAX_WHOLE_READ_BYTES = 100 * 1024 * 1024
#: A delimited file at least this big must show a line break in its first bytes: a sample reads lines.
_LINE_PROBE_BYTES = 16 * 1024 * 1024


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
    size = path.stat().st_size if path.is_file() else 0
    if path.is_file() and size == 0:
        raise InputFileError(f"Data file is empty: {shown}", hint="point --data at a file with rows", path=shown)
    if max_rows is not None:
        options = _bounded(path, size, dict(options or {}), tables)
    try:
        df = tables.read_table(path, options, limit=max_rows)
    except tables.ProjectError as exc:
        raise InputFileError(exc.message[:1].upper() + exc.message[1:], hint=_hint(path, exc.hint),
                             path=shown) from None
    if len(df) == 0:
        raise InputFileError(f"Data file has a header but no rows: {shown}",
                             hint="a contract is inferred from the rows; use a file with data", path=shown)
    return df


def _bounded(path: Path, size: int, options: dict[str, Any], tables: Any) -> dict[str, Any]:
    """Options that read the first rows of ``path`` without reading the whole file, or an error saying why not.

    A CSV/TSV is read with ``nrows`` (the reader's ``limit``), so its size does not matter, except that a
    footer (``skipfooter``) makes pandas read it all: above :data:`MAX_WHOLE_READ_BYTES` the footer is left
    out of the sample (it is at the end, past the rows read). A JSON array (not JSON Lines) and an Excel
    workbook are read whole: above that size they are refused, naming the file and what to do.
    """
    shown = str(path)
    if size <= MAX_WHOLE_READ_BYTES:
        return options
    fmt = str(options.get("format") or tables.format_of(path))
    mb = f"{size / 1e6:.0f} MB"
    if fmt == "json" and not options.get("lines"):
        raise InputFileError(f"{shown} is {mb} of JSON that is not JSON Lines: it can only be read whole",
                             hint="convert it to JSON Lines or Parquet (a sample is then read), or pass --data a "
                                  "smaller file", path=shown)
    if fmt == "excel":
        raise InputFileError(f"{shown} is a {mb} Excel workbook: it can only be read whole",
                             hint="export the sheet to CSV or Parquet (a sample is then read)", path=shown)
    if fmt == "csv":
        options.pop("skipfooter", None)
        if path.suffix.lower() not in (".gz", ".bz2", ".xz", ".zip", ".zst") and size >= _LINE_PROBE_BYTES:
            with open(path, "rb") as handle:
                head = handle.read(_LINE_PROBE_BYTES)
            if b"\n" not in head and b"\r" not in head:
                raise InputFileError(f"{shown} has no line break in its first {_LINE_PROBE_BYTES // 2**20} MB: "
                                     "not a table Shipyard can sample", hint="check the file; pass --data a CSV, "
                                     "Parquet or JSON Lines file", path=shown)
    return options


def _hint(path: Path, hint: str) -> str:
    if "not found" in hint or "DATA_PATH" in hint:
        return "check the --data path"
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "is it a valid Excel workbook? (openpyxl reads .xlsx, xlrd reads .xls)"
    if suffix in (".parquet", ".pq"):
        return "is it a valid Parquet file?"
    return "check the notebook's read call, or pass --data a delimited text, Excel, Parquet or JSON file"
