"""Git facts and helpers every command shares: is this a repo, is the tree clean, who is the user, which
tag is the newest version, and the identity Shipyard's own commits are made with."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import NotAGitRepoError

#: The author of the commits Shipyard makes itself (cached templates, update bases, fleet branches).
IDENTITY = {"GIT_AUTHOR_NAME": "shipyard", "GIT_AUTHOR_EMAIL": "shipyard@localhost",
            "GIT_COMMITTER_NAME": "shipyard", "GIT_COMMITTER_EMAIL": "shipyard@localhost"}


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          encoding="utf-8", errors="replace")


def require_repo(root: Path) -> Path:
    """Return the top of the work tree holding ``root``; raise when it is not in one."""
    done = _git(root, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise NotAGitRepoError(
            f"{root} is not a git repository",
            hint="run 'git init && git add -A && git commit -m notebooks' first, so every change can be reviewed and undone",
        )
    return Path(done.stdout.strip())


def dirty_paths(root: Path) -> list[str]:
    """Uncommitted changes below ``root`` (paths relative to ``root``), untracked files included, ignored not."""
    done = _git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", ".")
    if done.returncode != 0:
        return []
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.strip()
    out: list[str] = []
    entries = iter(done.stdout.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        if "R" in status or "C" in status:
            next(entries, None)  # -z puts a rename's source path in the next entry
        out.append(path[len(prefix):] if prefix and path.startswith(prefix) else path)
    return out


def user_email(root: Path) -> str:
    done = _git(root, "config", "user.email")
    return done.stdout.strip() if done.returncode == 0 else ""


def user_name(root: Path) -> str:
    done = _git(root, "config", "user.name")
    return done.stdout.strip() if done.returncode == 0 else ""


def newest(tags: Iterable[str]) -> str:
    """The highest PEP 440 version among tags (``v`` prefix allowed); tags that are no version are ignored."""
    from packaging.version import InvalidVersion, Version

    best: tuple[Any, str] | None = None
    for tag in tags:
        try:
            version = Version(tag.removeprefix("v"))
        except InvalidVersion:
            continue
        if best is None or version > best[0]:
            best = (version, tag)
    return best[1] if best else ""


def latest_tag(repo: Path) -> str:
    """The newest version tag of a local git repository ('' when it has none)."""
    return newest(_git(repo, "tag").stdout.split())
