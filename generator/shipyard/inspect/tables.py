"""Peek at tabular files without reading them whole: the header line and a small sample of a column."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
from pathlib import Path

_SAMPLE_BYTES = 256 * 1024


def _open_binary(path: Path) -> io.BufferedIOBase | None:
    name = path.name.lower()
    try:
        if name.endswith(".gz"):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        if name.endswith(".bz2"):
            return bz2.open(path, "rb")  # type: ignore[return-value]
        if name.endswith(".xz"):
            return lzma.open(path, "rb")  # type: ignore[return-value]
        if name.endswith((".zip", ".zst", ".parquet", ".xlsx", ".xls", ".feather", ".pq")):
            return None
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError:
        return None


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 4:  # a character cut by the sample boundary
            return raw[: exc.start].decode("utf-8")
        return raw.decode("latin-1")


def sample_text(path: Path, limit: int = _SAMPLE_BYTES) -> str | None:
    """Up to ``limit`` bytes of a (possibly compressed) text file, decoded utf-8 -> utf-8-sig -> latin-1."""
    handle = _open_binary(path)
    if handle is None:
        return None
    try:
        with handle:
            raw = handle.read(limit)
    except (OSError, EOFError, ValueError):
        return None
    if b"\x00" in raw[:4096]:
        return None  # binary
    return _decode(raw)


def _dialect(sample: str, tsv: bool) -> str:
    if tsv:
        return "\t"
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    try:
        return csv.Sniffer().sniff("\n".join(lines[:10]), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",;\t|"} if lines else {",": 0}
        return max(counts, key=lambda d: counts[d]) if max(counts.values()) else ","


def read_rows(path: Path, max_rows: int = 1000) -> tuple[list[str], list[list[str]]] | None:
    """(header, first rows) of a delimited file, from a bounded sample; None when unreadable."""
    text = sample_text(path)
    if text is None or not text.strip():
        return None
    complete = text if len(text) < _SAMPLE_BYTES - 4 else text[: text.rfind("\n") + 1] or text
    delimiter = _dialect(
        complete, path.name.lower().split(".")[-1] in ("tsv", "tab") or ".tsv." in path.name.lower()
    )
    try:
        reader = csv.reader(io.StringIO(complete), delimiter=delimiter)
        header = next(reader, [])
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) >= max_rows:
                break
    except csv.Error:
        return None
    header = [h.strip() for h in header]
    if not any(header):
        return None
    return header, rows


def read_header(path: Path) -> list[str] | None:
    result = read_rows(path, max_rows=0)
    return result[0] if result else None


def column_values(path: Path, column: str, max_rows: int = 1000) -> list[str] | None:
    result = read_rows(path, max_rows=max_rows)
    if result is None or column not in result[0]:
        return None
    index = result[0].index(column)
    return [row[index].strip() for row in result[1] if len(row) > index]


def guess_task(values: list[str]) -> str:
    """classification when values are strings/booleans or few distinct integers, else regression."""
    values = [v for v in values if v not in ("", "NA", "NaN", "nan", "null", "None")]
    if not values:
        return "unknown"
    distinct = set(values)
    numbers: list[float] = []
    for value in distinct:
        try:
            numbers.append(float(value))
        except ValueError:
            return "classification"
    if all(n.is_integer() for n in numbers) and len(distinct) <= 10:
        return "classification"
    return "regression"
