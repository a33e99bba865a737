"""One walk over the repository: the files inspection looks at (never follows symlinks out of it)."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# Directory names never descended into (plus any directory starting with a dot, and virtualenvs).
PRUNE = {
    "node_modules",
    "site-packages",
    "__pycache__",
    "venv",
    "mlruns",
    "mlartifacts",
    "wandb",
    "dist-packages",
    "__MACOSX",
}
MAX_FILES = 200_000
#: Files at least this big (data, models, archives, any type) are kept out of the image build context.
LARGE_FILE_BYTES = 50 * 1024 * 1024

DATA_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".xlsx": "excel",
    ".xls": "excel",
    ".xlsm": "excel",
    ".feather": "other",
    ".arrow": "other",
    ".orc": "other",
    ".dta": "other",
    ".sav": "other",
    ".sas7bdat": "other",
}
COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst")
# JSON files that are configuration, not data.
_NOT_DATA = re.compile(
    r"(^|/)(package(-lock)?|tsconfig|composer|kernel|\.?babelrc|manifest|settings|launch)\.json$"
)


def data_format(path: str) -> str | None:
    """The DataFile format for a repo path, None when it is not a data file (``.pkl`` is a model)."""
    lower = path.lower()
    for ext in COMPRESSED:
        if lower.endswith(ext) and lower[: -len(ext)].endswith((".csv", ".tsv")):
            return "csv" if lower[: -len(ext)].endswith(".csv") else "tsv"
    if _NOT_DATA.search(lower):
        return None
    return DATA_FORMATS.get(os.path.splitext(lower)[1])


def natural_key(path: str) -> tuple[object, ...]:
    """Sort "Tutorial 10" after "Tutorial 9"."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", path))


def norm_name(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


@dataclass
class RepoFiles:
    root: Path
    sizes: dict[str, int] = field(default_factory=dict)  # every regular file inside the repo
    notebooks: list[str] = field(default_factory=list)
    py_files: list[str] = field(default_factory=list)
    data_files: list[str] = field(default_factory=list)
    outside_links: list[str] = field(default_factory=list)  # symlinks pointing out of the repo
    truncated: bool = False
    _by_name: dict[str, list[str]] | None = None

    def large(self) -> list[str]:
        """Files of at least :data:`LARGE_FILE_BYTES`, in walk order."""
        return [p for p, size in self.sizes.items() if size >= LARGE_FILE_BYTES]

    def by_name(self, name: str) -> list[str]:
        """Files whose base name matches ``name`` ignoring case and Unicode normal form."""
        if self._by_name is None:
            index: dict[str, list[str]] = {}
            for path in self.sizes:
                index.setdefault(norm_name(path.rsplit("/", 1)[-1]), []).append(path)
            self._by_name = index
        return self._by_name.get(norm_name(name), [])

    def lookup(self, rel: str) -> str | None:
        """The stored spelling of ``rel`` (exact, then NFC-normalised), None when absent."""
        if rel in self.sizes:
            return rel
        nfc = unicodedata.normalize("NFC", rel)
        for path in self.by_name(rel.rsplit("/", 1)[-1]):
            if unicodedata.normalize("NFC", path) == nfc:
                return path
        return None


def walk(root: Path, exclude: frozenset[str] = frozenset()) -> RepoFiles:
    """Every file inspection looks at; ``exclude`` holds repo-relative files or folders to pass over
    (what an earlier adoption generated, so a re-adoption does not inspect its own output)."""
    files = RepoFiles(root=root)
    real_root = os.path.realpath(root)
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=lambda _e: None):
        dirnames[:] = [
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in PRUNE
            and not os.path.isfile(os.path.join(dirpath, d, "pyvenv.cfg"))
        ]
        dirnames.sort(key=natural_key)
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            count += 1
            if count > MAX_FILES:
                files.truncated = True
                break
            full = os.path.join(dirpath, name)
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if exclude and (rel in exclude or any(rel.startswith(f"{e}/") for e in exclude)):
                continue
            try:
                if os.path.islink(full):
                    target = os.path.realpath(full)
                    if os.path.commonpath([real_root, target]) != real_root:
                        files.outside_links.append(rel)
                        continue
                st = os.stat(full)
            except (OSError, ValueError):
                continue
            if not os.path.isfile(full):
                continue
            files.sizes[rel] = st.st_size
        if files.truncated:
            break
    for rel in sorted(files.sizes, key=natural_key):
        lower = rel.lower()
        if lower.endswith(".ipynb"):
            files.notebooks.append(rel)
        elif lower.endswith(".py"):
            files.py_files.append(rel)
        elif data_format(rel) is not None:
            files.data_files.append(rel)
    return files
