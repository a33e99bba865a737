"""The single path checkpoint refuses every way out of the project."""

from pathlib import Path, PurePosixPath

import pytest
from shipyard.errors import UnsafePathError
from shipyard.paths import safe_relpath

ATTACKS = [
    "../outside.txt",
    "a/../../outside.txt",
    "/etc/passwd",
    "C:/Windows/win.ini",
    "C:\\Windows\\win.ini",
    "..\\..\\outside.txt",
    ".git/hooks/pre-commit",
    "sub/.git/config",
    "ok\x00.txt",
    "",
    ".",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_refuses_paths_that_leave_the_project(attack: str) -> None:
    with pytest.raises(UnsafePathError):
        safe_relpath(attack)


@pytest.mark.parametrize(("raw", "expected"), [
    ("a/b.txt", "a/b.txt"),
    ("./a//b.txt", "a/b.txt"),
    ("src\\pkg\\x.py", "src/pkg/x.py"),
    ("Análise & dados/x.csv", "Análise & dados/x.csv"),
])
def test_normalises_safe_paths(raw: str, expected: str) -> None:
    assert safe_relpath(raw) == PurePosixPath(expected)


def test_refuses_writing_through_a_symlink_that_leaves_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "repo"
    root.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="symlink"):
        safe_relpath("link/file.txt", root=root)


def test_allows_a_symlink_that_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert safe_relpath("alias/file.txt", root=tmp_path) == PurePosixPath("alias/file.txt")


@pytest.mark.parametrize("attack", [".GIT/hooks/pre-commit", ".Git/config", ".git./hooks/x", "GIT~1/config"])
def test_refuses_every_spelling_of_git_a_case_insensitive_disk_would_accept(attack: str) -> None:
    with pytest.raises(UnsafePathError, match=".git"):
        safe_relpath(attack)


def test_refuses_writing_through_a_symlink_into_dot_git(tmp_path: Path) -> None:
    (tmp_path / ".git" / "hooks").mkdir(parents=True)
    (tmp_path / "tests").symlink_to(tmp_path / ".git" / "hooks")
    with pytest.raises(UnsafePathError, match="into .git"):
        safe_relpath("tests/pre-commit", root=tmp_path)
