"""The one table reader: the training data, read the way the notebook reads it.

`shipyard adopt` records the arguments of the notebook's own read call (`sep`, `header`, `names`,
`encoding`, `decimal`, `skiprows`, `sheet_name`, ...) in `settings.READ_OPTIONS`; without a read
call it sniffs the file once (`sniff_options`) and records what it found. Everything in the project
reads data through `read_table` with those options: training, the contract checks, drift, batch
scoring, the tests. Shipyard itself infers the contract with this same module, so the contract's
rules mean exactly what this reader produces.

Options are pandas keyword arguments plus one key of our own, `format` ("csv" for any delimited
text, "excel", "parquet", "json"). Nulls are what pandas reads as missing with these options
(`is_missing`): a blank string is a value, not a null.

Standard library only at import time; pandas is imported by the functions that read.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ProjectError

FORMATS = ("csv", "excel", "parquet", "json")
_SUFFIX_FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".tab": "csv", ".txt": "csv", ".dat": "csv", ".psv": "csv",
    ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
    ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".jsonl": "json", ".ndjson": "json",
}  # fmt: skip
_COMPRESSION = (".gz", ".bz2", ".xz", ".zip", ".zst")
# The options each format accepts (pandas' own names). Anything else is a typo in READ_OPTIONS.
ALLOWED_OPTIONS = {
    "csv": {
        "sep", "delimiter", "header", "names", "index_col", "usecols", "encoding", "encoding_errors", "na_values",
        "keep_default_na", "na_filter", "skiprows", "skipfooter", "nrows", "decimal", "thousands", "parse_dates",
        "date_format", "dayfirst", "quotechar", "quoting", "escapechar", "comment", "skipinitialspace",
        "true_values", "false_values", "lineterminator", "dtype", "skip_blank_lines", "engine",
    },
    "excel": {
        "sheet_name", "header", "names", "index_col", "usecols", "skiprows", "skipfooter", "nrows", "na_values",
        "keep_default_na", "na_filter", "parse_dates", "date_format", "thousands", "decimal", "dtype",
        "true_values", "false_values",
    },
    "parquet": {"columns"},
    "json": {"orient", "lines", "encoding", "dtype", "convert_dates", "nrows"},
}  # fmt: skip
_SAMPLE_BYTES = 256 * 1024


def format_of(path: str | Path) -> str:
    """The reader format for a path, from its suffix (compression suffixes looked through)."""
    name = Path(path).name.lower()
    for ext in _COMPRESSION:
        if name.endswith(ext):
            name = name[: -len(ext)]
    return _SUFFIX_FORMATS.get(Path(name).suffix, "csv")


def describe(options: Mapping[str, Any] | None) -> str:
    """The options as a call would show them: ``format='csv', sep=';', decimal=','``."""
    return ", ".join(f"{k}={v!r}" for k, v in (options or {}).items()) or "no options"


def is_missing(value: Any) -> bool:
    """The null rule: None, NaN, NaT and pandas' NA. Empty or blank strings are values."""
    if value is None:
        return True
    if type(value) is float:
        return value != value
    if isinstance(value, (str, bytes, bool, int)):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict, set)) else False
    except (TypeError, ValueError, ImportError):
        return isinstance(value, float) and math.isnan(value)


def read_table(path: str | Path, options: Mapping[str, Any] | None = None, *, limit: int | None = None):
    """Read ``path`` with ``options`` (see the module docstring); at most ``limit`` rows when given.

    ``df.attrs["truncated"]`` is True when ``limit`` cut rows off. Raises :class:`ProjectError`
    naming the file and the options when the file is missing or cannot be read with them.
    """
    path = Path(path)
    opts = dict(options or {})
    fmt = str(opts.pop("format", "") or format_of(path))
    if fmt not in FORMATS:
        raise ProjectError(f"unknown data format {fmt!r} for {path}", f"READ_OPTIONS format must be one of {FORMATS}")
    unknown = sorted(set(opts) - ALLOWED_OPTIONS[fmt])
    if unknown:
        raise ProjectError(
            f"READ_OPTIONS has option(s) a {fmt} file cannot take: {', '.join(unknown)}",
            f"edit READ_OPTIONS in settings.py; {fmt} files take: {', '.join(sorted(ALLOWED_OPTIONS[fmt]))}",
        )
    if not path.is_file():
        raise ProjectError(f"data file not found: {path}", "put the data there, or fix DATA_PATH in settings.py",
                           exit_code=2)
    try:
        df, truncated = _READERS[fmt](path, opts, limit)
    except ProjectError:
        raise
    except Exception as exc:  # pandas, pyarrow, openpyxl, xlrd: one message naming the file and the options
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ProjectError(
            f"cannot read {path} with {describe({'format': fmt, **opts})}: {type(exc).__name__}: {first}",
            "check READ_OPTIONS in settings.py (they repeat the notebook's read call)",
            exit_code=2,
        ) from None
    if df.shape[1] == 0:
        raise ProjectError(f"{path} has no columns when read with {describe(opts)}", "check READ_OPTIONS")
    df.attrs["truncated"] = truncated
    return df


def _cut(df, limit: int | None):
    if limit is not None and len(df) > limit:
        return df.iloc[:limit], True
    return df, False


def _read_csv(path: Path, opts: dict[str, Any], limit: int | None):
    import pandas as pd

    head = _sample(path, 4096)
    if head.startswith(b"PAR1"):
        raise ProjectError(f"{path} looks like a Parquet file, not delimited text", "rename it to .parquet")
    utf16 = "16" in str(opts.get("encoding", "")) or head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in head and not utf16:
        raise ProjectError(f"{path} looks like a binary file, not delimited text",
                           "point DATA_PATH at a CSV/TSV, Excel, Parquet or JSON file")

    if "delimiter" in opts and "sep" not in opts:
        opts["sep"] = opts.pop("delimiter")
    if opts.get("skipfooter"):
        opts.setdefault("engine", "python")  # pandas reads a footer only with the python engine
        return _cut(pd.read_csv(path, **opts), limit)
    if limit is not None:
        wanted = min(limit, int(opts["nrows"])) if opts.get("nrows") is not None else limit
        df = pd.read_csv(path, **{**opts, "nrows": wanted + 1}, **_low_memory(opts))
        return _cut(df, wanted)
    return pd.read_csv(path, **opts, **_low_memory(opts)), False


def _low_memory(opts: Mapping[str, Any]) -> dict[str, Any]:
    # One dtype per column for the whole file, as a notebook's default read gives on files of its size.
    return {} if opts.get("engine") == "python" or "low_memory" in opts else {"low_memory": False}


def _read_excel(path: Path, opts: dict[str, Any], limit: int | None):
    import pandas as pd

    if limit is not None and not opts.get("skipfooter"):
        df = pd.read_excel(path, **{**opts, "nrows": limit + 1 if opts.get("nrows") is None else opts["nrows"]})
    else:
        df = pd.read_excel(path, **opts)
    if isinstance(df, dict):
        raise ProjectError(f"{path}: sheet_name={opts.get('sheet_name')!r} reads several sheets",
                           "set sheet_name in READ_OPTIONS to the one sheet the model is trained on")
    return _cut(df, limit)


def _read_parquet(path: Path, opts: dict[str, Any], limit: int | None):
    import pandas as pd

    if limit is None:
        return pd.read_parquet(path, **opts), False
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    if pf.metadata.num_rows <= limit:
        return pd.read_parquet(path, **opts), False
    batches, seen = [], 0
    for batch in pf.iter_batches(batch_size=min(limit, 65_536), columns=opts.get("columns")):
        batches.append(batch)
        seen += batch.num_rows
        if seen >= limit:
            break
    return pa.Table.from_batches(batches).slice(0, limit).to_pandas(), True


def _read_json(path: Path, opts: dict[str, Any], limit: int | None):
    import pandas as pd

    if opts.get("lines") and limit is not None:
        return _cut(pd.read_json(path, **{**opts, "nrows": limit + 1}), limit)
    return _cut(pd.read_json(path, **opts), limit)


_READERS = {"csv": _read_csv, "excel": _read_excel, "parquet": _read_parquet, "json": _read_json}


# --------------------------------------------------------------------------- sniffing (adoption time)
def sniff_options(path: str | Path, given: Mapping[str, Any] | None = None, *, from_code: bool = False):
    """Options that read ``path`` like the notebook does: ``given`` (from its read call) completed.

    With ``from_code`` (the notebook's own read call was found), only what the file needs to be
    read at all is added (an encoding when it is not UTF-8). Without it, the file is sniffed once:
    delimiter, decimal comma, a prose preamble above the header, a missing header row, encoding.
    Returns ``(options, notes)``: the notes say what was sniffed, for the adoption report.
    """
    path = Path(path)
    opts: dict[str, Any] = {"format": str((given or {}).get("format") or format_of(path))}
    opts.update({k: v for k, v in (given or {}).items() if k != "format"})
    notes: list[str] = []
    fmt = opts["format"]
    if fmt == "json" and "lines" not in opts:
        head = _sample(path, 4096).lstrip()
        if path.suffix.lower() in (".jsonl", ".ndjson") or (head[:1] == b"{" and head.count(b"\n{") >= 1):
            opts["lines"] = True
    if fmt != "csv":
        return opts, notes
    raw = _sample(path, _SAMPLE_BYTES)
    if "encoding" not in opts:
        encoding = _encoding(raw)
        if encoding:
            opts["encoding"] = encoding
            notes.append(f"encoding {encoding} (not UTF-8)")
    text = _decode(raw, opts.get("encoding") or "utf-8")
    if from_code:
        return opts, notes
    lines = [line for line in text.splitlines()[:400]]
    if len(raw) >= _SAMPLE_BYTES and lines:
        lines = lines[:-1]  # the sample may cut the last line
    sep = opts.get("sep") or opts.get("delimiter") or _delimiter(lines, path)
    if sep != "," and "sep" not in opts and "delimiter" not in opts:
        opts["sep"] = sep
        notes.append(f"separator {sep!r}")
    start = _table_start(lines, sep)
    if start and "skiprows" not in opts and "header" not in opts:
        opts["skiprows"] = start
        notes.append(f"{start} line(s) of preamble above the header skipped")
    body = [_fields(line, sep) for line in lines[start:] if line.strip()]
    if body and "decimal" not in opts and sep != "," and _decimal_comma(body):
        opts["decimal"] = ","
        notes.append("decimal comma")
    if body and "header" not in opts and "names" not in opts and _headerless(body):
        opts["header"] = None
        opts["names"] = [f"column_{i + 1}" for i in range(len(body[0]))]
        notes.append("no header row: columns named column_1 ...")
    return opts, notes


def _sample(path: Path, size: int) -> bytes:
    import bz2
    import gzip
    import lzma

    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix.lower(), open)
    try:
        with opener(path, "rb") as fh:
            return fh.read(size)
    except (OSError, EOFError, ValueError):
        return b""


def _encoding(raw: bytes) -> str | None:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 4:  # a character cut by the end of the sample
            return None
    try:
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _decode(raw: bytes, encoding: str) -> str:
    text = raw.decode(encoding, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def _fields(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(line), delimiter=sep))
    except (csv.Error, StopIteration):
        return line.split(sep)


def _delimiter(lines: list[str], path: Path) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    sample = [line for line in lines if line.strip()][-200:]
    try:
        return csv.Sniffer().sniff("\n".join(sample), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: sum(line.count(d) for line in sample) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _table_start(lines: list[str], sep: str) -> int:
    """Index of the header line when prose lines precede the table (0 when the table starts at once)."""
    counts = [len(_fields(line, sep)) - 1 if line.strip() else -1 for line in lines]
    if len(counts) < 3:
        return 0
    for start in range(min(len(counts) - 2, 200)):
        width = counts[start]
        following = [c for c in counts[start : start + 30] if c != -1]
        if width >= 1 and len(following) >= 3 and all(c == width for c in following):
            return start
    return 0


_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$")
_COMMA_DECIMAL = re.compile(r"^\s*[-+]?\d+,\d+\s*$")


def _decimal_comma(rows: list[list[str]]) -> bool:
    data = rows[1:50]
    cells = [v for row in data for v in row if v.strip()]
    commas = sum(1 for v in cells if _COMMA_DECIMAL.match(v))
    dots = sum(1 for v in cells if re.match(r"^\s*[-+]?\d+\.\d+\s*$", v))
    return commas > 0 and commas >= dots


def _headerless(rows: list[list[str]]) -> bool:
    """The first row looks like data: a number in a column that holds numbers in every other row."""
    first, rest = rows[0], rows[1:30]
    if not rest or any(not v.strip() for v in first):
        return False
    numeric_columns = [
        i for i in range(len(first))
        if all(i < len(r) and _NUMBER.match(r[i]) for r in rest if i < len(r) and r[i].strip())
        and any(i < len(r) and r[i].strip() for r in rest)
    ]  # fmt: skip
    return bool(numeric_columns) and all(_NUMBER.match(first[i]) for i in numeric_columns)
