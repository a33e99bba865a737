"""Planning classifies every path; applying is all or nothing."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
import shipyard.apply as apply_mod
from shipyard.apply import apply_plan
from shipyard.errors import ApplyError, UnsafePathError, UsageError
from shipyard.plan import Action, collect_staged, make_plan


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def staged(**files: str) -> dict[PurePosixPath, tuple[bytes, int]]:
    return {PurePosixPath(k.replace("__", "/")): (v.encode(), 0o644) for k, v in files.items()}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "README.md").write_text("mine\n")
    (root / "same.txt").write_text("same\n")
    (root / "notebooks" / "a.ipynb").write_text("{}")
    return root


def test_classifies_create_identical_conflict_skip(repo: Path) -> None:
    plan = make_plan(repo, staged(**{"README.md": "theirs\n", "same.txt": "same\n", "new__file.py": "x = 1\n",
                                     "notebooks__a.ipynb": "{}", "notebooks": "clash"}))
    actions = {str(op.path): op.action for op in plan.ops}
    assert actions == {
        "README.md": Action.CONFLICT, "same.txt": Action.IDENTICAL, "new/file.py": Action.CREATE,
        "notebooks/a.ipynb": Action.SKIP, "notebooks": Action.SKIP,
    }
    conflict = next(op for op in plan.ops if op.action is Action.CONFLICT)
    diff = conflict.diff(repo)
    assert "-mine" in diff and "+theirs" in diff


def test_force_overwrites_only_the_named_file_and_keeps_a_backup(repo: Path) -> None:
    plan = make_plan(repo, staged(**{"README.md": "theirs\n"}), force=["README.md"])
    assert [op.action for op in plan.ops] == [Action.OVERWRITE]
    applied = apply_plan(plan, backup_stamp="20260101T000000Z")
    assert (repo / "README.md").read_text() == "theirs\n"
    assert [(repo / b).read_text() for b in applied.backups] == ["mine\n"]


def test_force_of_a_path_that_is_not_generated_is_refused(repo: Path) -> None:
    with pytest.raises(UsageError, match="nothing.txt"):
        make_plan(repo, staged(**{"README.md": "x"}), force=["nothing.txt"])


def test_apply_writes_creates_and_never_touches_conflicts(repo: Path) -> None:
    plan = make_plan(repo, staged(**{"README.md": "theirs\n", "a__b__c.txt": "deep\n"}))
    apply_plan(plan, backup_stamp="s")
    assert (repo / "README.md").read_text() == "mine\n"
    assert (repo / "a/b/c.txt").read_text() == "deep\n"


@pytest.mark.parametrize("fail_at", [0, 1, 2])
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_apply_leaves_the_repo_exactly_as_it_was(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                              fail_at: int, error: BaseException) -> None:
    before = snapshot(repo)
    dirs_before = sorted(p for p in repo.rglob("*") if p.is_dir())
    plan = make_plan(repo, staged(**{"x__one.txt": "1", "y__two.txt": "2", "z__three.txt": "3",
                                     "README.md": "forced\n"}), force=["README.md"])
    calls = {"n": 0}
    real = apply_mod._replace

    def flaky(src: object, dst: object) -> None:
        if calls["n"] == fail_at:
            raise error
        calls["n"] += 1
        real(src, dst)

    monkeypatch.setattr(apply_mod, "_replace", flaky)
    with pytest.raises(ApplyError, match="rolled back"):
        apply_plan(plan, backup_stamp="s")
    monkeypatch.setattr(apply_mod, "_replace", real)
    assert snapshot(repo) == before
    assert sorted(p for p in repo.rglob("*") if p.is_dir()) == dirs_before


def test_staged_symlinks_and_escapes_are_refused(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "evil").symlink_to("/etc/passwd")
    with pytest.raises(UnsafePathError, match="symlink"):
        collect_staged(stage)


def test_a_path_behind_a_symlink_into_git_is_skipped_not_written(repo: Path) -> None:
    (repo / ".git" / "hooks").mkdir(parents=True)
    (repo / "tests").symlink_to(repo / ".git" / "hooks")
    plan = make_plan(repo, staged(**{"tests__pre-commit": "#!/bin/sh\necho pwned\n", "ok.txt": "x"}))
    actions = {str(op.path): op.action for op in plan.ops}
    assert actions == {"tests/pre-commit": Action.SKIP, "ok.txt": Action.CREATE}
    apply_plan(plan, backup_stamp="s")
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()


@pytest.mark.parametrize("path", ["new.txt", "README.md"])
def test_a_file_written_after_the_preview_is_never_clobbered(repo: Path, path: str) -> None:
    plan = make_plan(repo, staged(**{"new.txt": "ours\n", "other.txt": "x", "README.md": "theirs\n"}),
                     force=["README.md"])
    (repo / path).write_text("typed while the prompt was open\n")
    before = snapshot(repo)
    with pytest.raises(ApplyError, match="after the preview"):
        apply_plan(plan, backup_stamp="s")
    assert snapshot(repo) == before


def test_a_second_writer_on_the_same_repo_is_refused_while_the_first_holds_the_lock(repo: Path) -> None:
    from shipyard.apply import repo_lock

    plan = make_plan(repo, staged(**{"new.txt": "x"}))
    before = snapshot(repo)
    with repo_lock(repo):
        with pytest.raises(ApplyError, match="another shipyard command"):
            apply_plan(plan, backup_stamp="s")
    assert snapshot(repo) == before
    apply_plan(plan, backup_stamp="s")  # free again once the first writer is done
    assert (repo / "new.txt").read_text() == "x"
