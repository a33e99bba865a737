"""Reading the user's data files into a DataFrame, whatever their format and encoding.

CSV/TSV (delimiter sniffed; UTF-8, then cp1252 and latin-1), compressed CSV, Parquet, JSON (lines)
and Excel. Unreadable files raise :class:`~shipyard.errors.InputFileError` naming the file.
pandas is imported inside the functions. Nothing here prints.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputFileError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

DEFAULT_MAX_ROWS = 200_000

_DELIMITED = {".csv", ".tsv", ".tab", ".txt", ".psv"}
_PARQUET = {".parquet", ".pq"}
_JSON_LINES = {".jsonl", ".ndjson"}
_JSON = {".json"}
_EXCEL = {".xlsx", ".xlsm", ".xls"}
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip", ".zst": "zstd"}
_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # utf-8-sig also reads plain utf-8


def load_table(path: Path, *, max_rows: int | None = DEFAULT_MAX_ROWS) -> pd.DataFrame:
    """Read a CSV/TSV, Parquet, JSON (lines) or Excel file into a DataFrame.

    At most ``max_rows`` rows are read (``None`` reads everything); when the file had more,
    ``df.attrs["shipyard_truncated"]`` is True. The delimiter of text files is sniffed and the
    encoding falls back from UTF-8 to cp1252 and latin-1 (``df.attrs["shipyard_encoding"]``).
    Raises :class:`InputFileError` naming the file, with a hint, when it cannot be read.
    """
    path = Path(path)
    shown = str(path)
    if not path.exists():
        raise InputFileError(f"Data file not found: {shown}", hint="check the --data path", path=shown)
    if not path.is_file():
        raise InputFileError(f"Data path is not a file: {shown}", hint="point --data at a file", path=shown)
    if path.stat().st_size == 0:
        raise InputFileError(
            f"Data file is empty: {shown}", hint="point --data at a file with rows", path=shown
        )

    suffixes = [s.lower() for s in path.suffixes]
    compression = _COMPRESSION.get(suffixes[-1]) if suffixes else None
    kind_suffix = (suffixes[-2] if compression and len(suffixes) > 1 else suffixes[-1]) if suffixes else ""
    limit = None if max_rows is None else max(int(max_rows), 1)

    try:
        if kind_suffix in _PARQUET:
            df, truncated = _read_parquet(path, limit)
            encoding = None
        elif kind_suffix in _EXCEL:
            df, truncated = _read_excel(path, limit)
            encoding = None
        elif kind_suffix in _JSON_LINES or kind_suffix in _JSON:
            df, truncated, encoding = _read_json(path, limit, compression, lines=kind_suffix in _JSON_LINES)
        else:
            # .csv/.tsv/.txt and unknown suffixes: treat as delimited text.
            df, truncated, encoding = _read_delimited(path, limit, compression, kind_suffix)
    except InputFileError:
        raise
    except Exception as exc:  # third-party errors are translated at this boundary
        raise InputFileError(
            f"Cannot read data file {shown}: {_first_line(exc)}",
            hint=_hint_for(kind_suffix),
            path=shown,
        ) from exc

    if df.shape[1] == 0:
        raise InputFileError(f"Data file has no columns: {shown}", hint=_hint_for(kind_suffix), path=shown)
    if len(df) == 0:
        raise InputFileError(
            f"Data file has a header but no rows: {shown}",
            hint="a contract is inferred from the rows; use a file with data",
            path=shown,
        )
    df.attrs["shipyard_truncated"] = bool(truncated)
    df.attrs["shipyard_encoding"] = encoding
    return df


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _hint_for(suffix: str) -> str:
    if suffix in _PARQUET:
        return "is it a valid Parquet file? pyarrow must be installed"
    if suffix in _EXCEL:
        return "is it a valid Excel workbook? openpyxl must be installed"
    if suffix in _JSON_LINES or suffix in _JSON:
        return "expected one JSON object per line (JSON lines) or a JSON array of records"
    return "expected a delimited text file (CSV/TSV) with a header row"


def _truncate(df: pd.DataFrame, limit: int | None) -> tuple[pd.DataFrame, bool]:
    if limit is not None and len(df) > limit:
        return df.iloc[:limit].reset_index(drop=True), True
    return df, False


def _read_parquet(path: Path, limit: int | None) -> tuple[pd.DataFrame, bool]:
    import pandas as pd

    if limit is None:
        return pd.read_parquet(path), False
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    total = pf.metadata.num_rows
    if total <= limit:
        return pf.read().to_pandas(), False
    batches = []
    seen = 0
    for batch in pf.iter_batches(batch_size=min(limit, 65_536)):
        batches.append(batch)
        seen += batch.num_rows
        if seen >= limit:
            break
    table = pa.Table.from_batches(batches, schema=pf.schema_arrow).slice(0, limit)
    return table.to_pandas(), True


def _read_excel(path: Path, limit: int | None) -> tuple[pd.DataFrame, bool]:
    import importlib.util

    import pandas as pd

    if path.suffix.lower() != ".xls" and importlib.util.find_spec("openpyxl") is None:
        raise InputFileError(
            f"Cannot read Excel file {path}: openpyxl is not installed",
            hint="pip install openpyxl, or export the sheet as CSV",
            path=str(path),
        )
    nrows = None if limit is None else limit + 1
    return _truncate(pd.read_excel(path, nrows=nrows), limit)


def _read_json(path: Path, limit, compression, *, lines: bool):
    import pandas as pd

    last: Exception | None = None
    for encoding in _ENCODINGS:
        try:
            if lines:
                nrows = None if limit is None else limit + 1
                df = pd.read_json(path, lines=True, nrows=nrows, encoding=encoding, compression=compression)
            else:
                try:
                    df = pd.read_json(path, encoding=encoding, compression=compression)
                except ValueError:
                    # A ".json" file that is really JSON lines.
                    df = pd.read_json(path, lines=True, encoding=encoding, compression=compression)
            df, truncated = _truncate(df, limit)
            return df, truncated, encoding
        except UnicodeDecodeError as exc:
            last = exc
    raise last  # type: ignore[misc]  # pragma: no cover - latin-1 decodes any byte


def _open_text_sample(path: Path, compression: str | None, size: int = 64 * 1024) -> bytes:
    if compression == "gzip":
        import gzip

        with gzip.open(path, "rb") as fh:
            return fh.read(size)
    if compression == "bz2":
        import bz2

        with bz2.open(path, "rb") as fh:
            return fh.read(size)
    if compression == "xz":
        import lzma

        with lzma.open(path, "rb") as fh:
            return fh.read(size)
    if compression is not None:  # zip / zstd: let pandas deal with it, no sniffing
        return b""
    with open(path, "rb") as fh:
        return fh.read(size)


def _sniff_delimiter(sample: str, suffix: str) -> str:
    default = "\t" if suffix in {".tsv", ".tab"} else ("|" if suffix == ".psv" else ",")
    lines = [line for line in sample.splitlines() if line.strip()]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut in the middle
    if not lines:
        return default
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:200]), delimiters=",;\t|")
        return dialect.delimiter
    except csv.Error:
        return default


def _read_delimited(path: Path, limit, compression, suffix: str):
    import pandas as pd

    raw = _open_text_sample(path, compression)
    if compression is None and raw.strip() == b"":
        raise InputFileError(
            f"Data file is empty: {path}", hint="point --data at a file with rows", path=str(path)
        )
    if raw.startswith(b"PAR1"):
        raise InputFileError(
            f"Cannot read data file {path}: it looks like Parquet, not text",
            hint="rename it to .parquet",
            path=str(path),
        )
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(
            f"Cannot read data file {path}: it looks like a binary file, not CSV/TSV",
            hint=_hint_for(suffix),
            path=str(path),
        )
    nrows = None if limit is None else limit + 1
    last: Exception | None = None
    for encoding in _ENCODINGS:
        try:
            sample = raw.decode(encoding) if raw else ""
        except UnicodeDecodeError as exc:
            # The 64 KiB sample may end inside a multi-byte character: drop a few bytes and retry.
            try:
                sample = raw[: max(exc.start, len(raw) - 4)].decode(encoding)
            except UnicodeDecodeError as exc2:
                last = exc2
                continue
        sep = _sniff_delimiter(sample, suffix)
        try:
            df = pd.read_csv(
                path,
                sep=sep,
                encoding=encoding,
                nrows=nrows,
                compression=compression,
                low_memory=False,
            )
        except UnicodeDecodeError as exc:
            last = exc
            continue
        df, truncated = _truncate(df, limit)
        return df, truncated, encoding
    raise last  # type: ignore[misc]  # pragma: no cover - latin-1 decodes any byte
