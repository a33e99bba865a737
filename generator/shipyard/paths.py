"""The single checkpoint that turns template or user paths into safe relative paths.

Every path that Shipyard writes goes through :func:`safe_relpath`. Keep path
containment checks here and nowhere else.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path, PurePosixPath

from .errors import UnsafePathError

# Paths Shipyard never writes into, whatever a template says.
_FORBIDDEN_PARTS = {".git"}


def safe_relpath(path: str | os.PathLike[str], *, root: Path | None = None) -> PurePosixPath:
    """Return ``path`` as a normalised relative POSIX path inside the project.

    Raises :class:`UnsafePathError` for absolute paths, drive letters, ``..``
    components, NUL bytes, paths into ``.git`` and (when ``root`` is given) paths
    whose existing parents are symlinks leading outside ``root``.
    """
    raw = os.fspath(path)
    if "\x00" in raw:
        raise UnsafePathError(f"refusing path with a NUL byte: {raw!r}", hint="fix the template")
    text = raw.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise UnsafePathError(f"refusing absolute path: {raw}", hint="template paths must be relative")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts:
        raise UnsafePathError(f"refusing empty path: {raw!r}")
    if any(p == ".." for p in parts):
        raise UnsafePathError(f"refusing path that leaves the project: {raw}", hint="remove '..' from it")
    if any(_is_forbidden(p) for p in parts):
        raise UnsafePathError(f"refusing to write inside .git: {raw}")
    rel = PurePosixPath(*[unicodedata.normalize("NFC", p) for p in parts])
    if root is not None:
        _check_no_escape(root, rel)
    return rel


def _is_forbidden(part: str) -> bool:
    """``.git`` in any spelling a case-insensitive file system (APFS, NTFS) or git itself treats as it."""
    folded = part.casefold().rstrip(". ")
    return folded in _FORBIDDEN_PARTS or folded == "git~1"


def _check_no_escape(root: Path, rel: PurePosixPath) -> None:
    """Refuse a path whose existing parents are symlinks leading out of ``root`` or into its ``.git``."""
    real_root = root.resolve()
    current = root
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            target = current.resolve()
            if target != real_root and real_root not in target.parents:
                raise UnsafePathError(
                    f"refusing to write through symlink {rel} -> {target}",
                    hint="the link points outside the project",
                )
            if any(_is_forbidden(p) for p in target.relative_to(real_root).parts):
                raise UnsafePathError(
                    f"refusing to write through symlink {rel} -> {target}: it leads into .git",
                    hint="git hooks and config are never written",
                )
        if not current.exists():
            break


def display(path: PurePosixPath | str) -> str:
    """How a relative path is shown to the user."""
    return str(path)
