"""The base of a 3-way update: the template's own output, as last rendered into the project.

It is kept in the project's git objects under ``refs/shipyard/base/<project>``, one commit per adopt or
update, so an update never depends on the old template version still rendering (an old copier, a
removed Jinja extension, a tag deleted upstream). The work tree is never touched. ``git push origin
'refs/shipyard/*'`` shares it with the team; where it is missing, :mod:`shipyard.update` re-renders the
recorded template version instead.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import ApplyError
from .gitinfo import IDENTITY
from .paths import safe_relpath

REF_PREFIX = "refs/shipyard/base"

Files = dict[PurePosixPath, tuple[bytes, int]]


@dataclass(frozen=True, kw_only=True)
class Base:
    files: Files
    source: str  # what the template source was, as recorded ("production", a folder, a git URL)
    version: str
    commit: str


def _git(root: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None) -> bytes:
    done = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True,
                          env={**os.environ, **IDENTITY, **(env or {})})
    if done.returncode != 0:
        raise ApplyError(f"git {args[0]} failed in {root}: {done.stderr.decode('utf-8', 'replace').strip()[:200]}",
                         hint="check that git works in this repository")
    return done.stdout


def ref_name(root: Path) -> str:
    """One ref per project: the project's folder inside its git repository decides the name."""
    prefix = _git(root, "rev-parse", "--show-prefix").decode().strip().strip("/")
    return f"{REF_PREFIX}/root" if not prefix else f"{REF_PREFIX}/{hashlib.sha1(prefix.encode()).hexdigest()[:16]}"


def load(root: Path) -> Base | None:
    """The recorded base of the project at ``root``, or None when this clone has none."""
    ref = ref_name(root)
    try:
        commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except ApplyError:
        return None
    message = _git(root, "log", "-1", "--format=%B", commit).decode("utf-8", "replace")
    trailers = dict(line.split(": ", 1) for line in message.splitlines() if line.startswith("Shipyard-"))
    listing = _git(root, "ls-tree", "-r", "-z", commit).split(b"\0")
    entries = []
    for item in filter(None, listing):
        meta, path = item.split(b"\t", 1)
        mode, kind, sha = meta.decode().split()
        if kind == "blob":
            entries.append((safe_relpath(path.decode("utf-8")), 0o755 if mode == "100755" else 0o644, sha))
    blobs = _cat_blobs(root, [sha for _, _, sha in entries])
    files: Files = {rel: (blobs[sha], mode) for rel, mode, sha in entries}
    return Base(files=files, source=trailers.get("Shipyard-Source", ""),
                version=trailers.get("Shipyard-Version", ""), commit=commit)


def _cat_blobs(root: Path, shas: list[str]) -> dict[str, bytes]:
    if not shas:
        return {}
    out = _git(root, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in shas).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        end = out.index(b"\n", pos)
        sha, _kind, size = out[pos:end].decode().split()
        start = end + 1
        blobs[sha] = out[start:start + int(size)]
        pos = start + int(size) + 1
    return blobs


def record(root: Path, files: Mapping[PurePosixPath, tuple[bytes, int]], *, source: str, version: str) -> str:
    """Store ``files`` as the project's new base (a commit under its ref). Returns the commit id."""
    ref = ref_name(root)
    with tempfile.TemporaryDirectory(prefix="shipyard-base-") as tmp:
        index = Path(tmp) / "index"
        env = {"GIT_INDEX_FILE": str(index)}
        hashed = _git(root, "hash-object", "-w", "--stdin-paths", "--no-filters",
                      stdin=_spool(Path(tmp), files), env=env).decode().split()
        entries = "".join(f"{'100755' if mode & 0o111 else '100644'} {sha}\t{rel}\0"
                          for (rel, (_, mode)), sha in zip(sorted(files.items(), key=lambda kv: str(kv[0])), hashed,
                                                           strict=True))
        _git(root, "update-index", "-z", "--add", "--index-info", stdin=entries.encode("utf-8"), env=env)
        tree = _git(root, "write-tree", env=env).decode().strip()
    parent = _git(root, "rev-parse", "--verify", "--quiet", ref) if _has(root, ref) else b""
    message = f"shipyard base: {source} {version}\n\nShipyard-Source: {source}\nShipyard-Version: {version}\n"
    args = ["commit-tree", tree, "-m", message] + (["-p", parent.decode().strip()] if parent else [])
    commit = _git(root, *args).decode().strip()
    _git(root, "update-ref", ref, commit)
    return commit


def _spool(folder: Path, files: Mapping[PurePosixPath, tuple[bytes, int]]) -> bytes:
    """Write each file's bytes to a temporary file; return the paths for ``hash-object --stdin-paths``."""
    paths = []
    for i, (_rel, (content, _mode)) in enumerate(sorted(files.items(), key=lambda kv: str(kv[0]))):
        path = folder / f"blob{i}"
        path.write_bytes(content)
        paths.append(str(path))
    return "".join(f"{p}\n" for p in paths).encode()


def _has(root: Path, ref: str) -> bool:
    return subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", ref],
                          capture_output=True).returncode == 0
