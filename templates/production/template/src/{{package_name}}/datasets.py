"""The project's data: the training table and any other file, read with the project's reader options.

The training data is `settings.DATA_PATH` read with `settings.READ_OPTIONS` (the notebook's own read
call). Another file of the same format (a new batch, a scoring input) is read with the same options;
a file of another format is sniffed once (tables.sniff_options).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import settings as S
from .tables import format_of, read_table, sniff_options


def options_for(path: str | Path) -> dict[str, Any]:
    """READ_OPTIONS for files like the training data, else what that file's format needs."""
    fmt = format_of(path)
    if fmt == S.READ_OPTIONS.get("format", format_of(S.DATA_PATH)):
        return dict(S.READ_OPTIONS)
    return sniff_options(path)[0]


def read(path: str | Path | None = None, *, limit: int | None = None):
    """A data file as the project reads it (default: the training data)."""
    settings = S.Settings.load()
    target = Path(path) if path is not None else settings.data_path
    return read_table(target, options_for(target) if path is not None else S.READ_OPTIONS, limit=limit)
