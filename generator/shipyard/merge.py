"""Three-way classification of one template update, file by file (no writes).

For every path the template rendered before (the *base*) or renders now (*new*), compared with the
project's file (*yours*):

=================  =====================================================================================
unchanged          the template did not change it, or you already have the new version
updated            you never edited it: it becomes the new version
merged             you edited it and the template changed it elsewhere: both changes kept (git merge-file)
conflict           you and the template changed the same lines: written with markers (or kept + ``.rej``)
deleted-locally    you deleted it: it stays deleted
removed            the template removed it and you never edited it: removed
kept               the template removed it (or adds a file you already have) but the file is yours: kept
renamed            the template renamed it: your edits follow the rename
new                a file the template adds
user-owned         a file the project owns (the notebook module, data, contracts, ADOPTION.md): never touched
=================  =====================================================================================
"""

from __future__ import annotations

import difflib
import fnmatch
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

Files = Mapping[PurePosixPath, tuple[bytes, int]]

KINDS = ("unchanged", "updated", "merged", "conflict", "deleted-locally", "removed", "kept", "renamed", "new",
         "user-owned")
#: Kinds that write a file or remove one.
WRITING = frozenset({"updated", "merged", "conflict", "removed", "renamed", "new"})
RENAME_SIMILARITY = 0.6


@dataclass(frozen=True, kw_only=True)
class Change:
    path: PurePosixPath
    kind: str
    content: bytes | None = None  # what the file becomes (None: removed, or not written)
    mode: int = 0o644
    reason: str = ""
    renamed_from: PurePosixPath | None = None
    conflicts: int = 0  # conflicting hunks written with markers
    reject: bytes | None = None  # the template's side as a diff, for --conflict rej
    owned: tuple[PurePosixPath, ...] = ()  # paths that are yours from now on (left out of the next base)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"path": str(self.path), "kind": self.kind}
        if self.reason:
            out["reason"] = self.reason
        if self.renamed_from:
            out["renamed_from"] = str(self.renamed_from)
        if self.conflicts:
            out["conflicts"] = self.conflicts
        return out


def owned_by_user(rel: PurePosixPath, patterns: Iterable[str]) -> bool:
    text = str(rel)
    return rel.suffix == ".ipynb" or any(fnmatch.fnmatchcase(text, p) or text.startswith(p.rstrip("/") + "/")
                                         for p in patterns)


def merge3(yours: bytes, base: bytes, theirs: bytes, *, labels: tuple[str, str, str]) -> tuple[bytes, int] | None:
    """``git merge-file`` of three texts: (result, number of conflicts), None when one side is not text."""
    for side in (yours, base, theirs):
        if b"\0" in side:
            return None
        try:
            side.decode("utf-8")
        except UnicodeDecodeError:
            return None
    with tempfile.TemporaryDirectory(prefix="shipyard-merge-") as tmp:
        paths = []
        for name, data in (("yours", yours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(str(path))
        done = subprocess.run(["git", "merge-file", "-p", "-L", labels[0], "-L", labels[1], "-L", labels[2],
                               *paths], capture_output=True)
    if done.returncode < 0 or done.returncode > 127:
        return None
    return done.stdout, done.returncode


def _similar(a: bytes, b: bytes) -> float:
    if a == b:
        return 1.0
    try:
        return difflib.SequenceMatcher(None, a.decode("utf-8").splitlines(), b.decode("utf-8").splitlines(),
                                       autojunk=False).ratio()
    except UnicodeDecodeError:
        return 0.0


def _renames(base: Files, new: Files) -> dict[PurePosixPath, PurePosixPath]:
    """Paths the template moved: gone from ``new``, with a similar file added in ``new``."""
    gone = [p for p in base if p not in new]
    added = [p for p in new if p not in base]
    out: dict[PurePosixPath, PurePosixPath] = {}
    for old in gone:
        scored = [(_similar(base[old][0], new[p][0]), p) for p in added if p not in out.values()]
        scored = [(s, p) for s, p in scored if s >= RENAME_SIMILARITY]
        if scored:
            out[old] = max(scored, key=lambda sp: (sp[0], sp[1].name == old.name))[1]
    return out


def _reject(path: PurePosixPath, base: bytes, theirs: bytes) -> bytes:
    lines = difflib.unified_diff(base.decode("utf-8", "replace").splitlines(keepends=True),
                                 theirs.decode("utf-8", "replace").splitlines(keepends=True),
                                 f"a/{path} (template before)", f"b/{path} (template now)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines).encode("utf-8")


#: The record of the template, its version and the answers: rewritten by every update, never merged.
STATE_FILES = frozenset({PurePosixPath(".copier-answers.yml"), PurePosixPath(".cruft.json")})


Yours = Callable[[PurePosixPath], "tuple[bytes, int] | None"]


def classify(base: Files, new: Files, yours: Yours, *, user_owned: Iterable[str] = (),
             blocked: Callable[[PurePosixPath], str] = lambda rel: "",
             labels: tuple[str, str] = ("template before", "template now")) -> list[Change]:
    """Every path of ``base`` and ``new`` against your files (``yours(path)``: (bytes, mode) of a regular
    file, or None). ``blocked(path)`` says why a path cannot be written ('' when it can): your symlink or
    folder there is yours, and kept."""
    patterns = tuple(user_owned)
    renames = _renames(base, new)
    targets = set(renames.values())
    changes: list[Change] = []
    before, now = labels
    for rel in sorted(set(base) | set(new), key=str):
        if owned_by_user(rel, patterns):
            changes.append(Change(path=rel, kind="user-owned", reason="the project owns it; updates never touch it"))
            continue
        if rel in targets:
            continue  # decided with its old path
        b = base.get(rel)
        n = new.get(rel)
        why = blocked(rel)
        if why and (n is not None or rel in renames):
            changes.append(Change(path=rel, kind="kept", reason=f"{why}: kept as is; the template's file is not "
                                                                "written", owned=(rel,)))
            continue
        mine = yours(rel)
        if rel in STATE_FILES and n is not None:
            changes.append(Change(path=rel, kind="unchanged") if mine == n else
                           Change(path=rel, kind="updated", content=n[0], mode=n[1],
                                  reason="the record of the template version and your answers"))
            continue
        if rel in renames:
            target = renames[rel]
            why_new = blocked(target)
            if why_new:
                changes.append(Change(path=rel, kind="kept", owned=(rel, target),
                                      reason=f"the template renamed it to {target}, but {why_new}: both kept"))
                continue
            changes += _renamed(rel, target, b, new[target], mine, yours(target), labels)
            continue
        if b is None and n is not None:
            if mine is None:
                changes.append(Change(path=rel, kind="new", content=n[0], mode=n[1]))
            elif mine[0] == n[0]:
                changes.append(Change(path=rel, kind="unchanged", reason="you already have the new file"))
            else:
                changes.append(Change(path=rel, kind="kept", owned=(rel,),
                                      reason="the template adds this file, but you have your own here: kept as is"))
        elif b is not None and n is None:
            if mine is None:
                changes.append(Change(path=rel, kind="deleted-locally", reason="gone here and from the template"))
            elif mine[0] == b[0]:
                changes.append(Change(path=rel, kind="removed", reason="the template removed it; you never "
                                                                       "edited it"))
            else:
                changes.append(Change(path=rel, kind="kept", owned=(rel,),
                                      reason="the template removed it, but you edited it: kept as yours"))
        elif b is not None and n is not None:
            changes.append(_both(rel, b, n, mine, before, now))
    return changes


def _mode(b: int, n: int, mine: int) -> int:
    """The executable bit, 3-way: the template's change unless you changed it yourself."""
    return n if mine == b else mine


def _both(rel: PurePosixPath, b: tuple[bytes, int], n: tuple[bytes, int], mine: tuple[bytes, int] | None,
          before: str, now: str) -> Change:
    if mine is None:
        return Change(path=rel, kind="deleted-locally", reason="you deleted it: it stays deleted")
    mode = _mode(b[1], n[1], mine[1])
    if mine[0] == n[0] or b[0] == n[0]:
        if mode == mine[1]:
            return Change(path=rel, kind="unchanged")
        return Change(path=rel, kind="updated", content=mine[0], mode=mode, reason="the template changed its mode")
    if mine[0] == b[0]:
        return Change(path=rel, kind="updated", content=n[0], mode=mode)
    merged = merge3(mine[0], b[0], n[0], labels=(f"yours: {rel}", f"{before}: {rel}", f"{now}: {rel}"))
    if merged is None:
        return Change(path=rel, kind="conflict", content=None, mode=mode, conflicts=1,
                      reason="a binary file you and the template both changed: yours is kept; take the "
                             "template's by hand (the next update offers it again)")
    text, count = merged
    if count == 0:
        return Change(path=rel, kind="merged", content=text, mode=mode)
    return Change(path=rel, kind="conflict", content=text, mode=mode, conflicts=count,
                  reason=f"{count} conflicting change(s) marked <<<<<<< yours / >>>>>>> {now}",
                  reject=_reject(rel, b[0], n[0]))


def _renamed(old: PurePosixPath, new_path: PurePosixPath, b: tuple[bytes, int] | None, n: tuple[bytes, int],
             mine: tuple[bytes, int] | None, mine_at_new: tuple[bytes, int] | None,
             labels: tuple[str, str]) -> list[Change]:
    assert b is not None
    if mine is None:
        return [Change(path=new_path, kind="deleted-locally", renamed_from=old,
                       reason=f"the template renamed {old}, which you had deleted: it stays deleted")]
    if mine_at_new is not None and mine_at_new[0] != n[0]:
        return [Change(path=old, kind="kept", owned=(old, new_path),
                       reason=f"the template renamed it to {new_path}, but you have your own {new_path}: both "
                              "kept as they are")]
    moved = _both(new_path, b, n, mine, *labels)
    if moved.kind == "conflict" and moved.content is None:
        return [Change(path=old, kind="kept", owned=(old,),
                       reason=f"the template renamed it to {new_path}; it is binary and you changed it: kept "
                              "here, move it by hand")]
    content = mine[0] if moved.kind == "unchanged" else moved.content
    what = {"unchanged": "; your edits follow it" if mine[0] != b[0] else "", "updated": "",
            "merged": "; your edits merged into it",
            "conflict": f"; {moved.conflicts} conflicting change(s) marked"}[moved.kind]
    return [
        Change(path=new_path, kind="conflict" if moved.kind == "conflict" else "renamed", content=content,
               mode=moved.mode if moved.kind != "unchanged" else mine[1], renamed_from=old,
               conflicts=moved.conflicts, reject=moved.reject, reason=f"renamed from {old} by the template{what}"),
        Change(path=old, kind="removed", renamed_from=None, reason=f"renamed to {new_path} by the template"),
    ]
