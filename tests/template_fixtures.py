"""A small copier template in a real git repository, tagged v1 and v2, and projects generated from v1 with
a user's edits: every case of a 3-way update (tests/test_update.py, tests/test_fleet.py)."""

from __future__ import annotations

from pathlib import Path

from conftest import git, make_repo

LINES = [f"line {i}\n" for i in range(1, 21)]


def text(*lines: str) -> str:
    return "".join(lines)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


V1 = {
    "copier.yml": "_answers_file: .copier-answers.yml\n_subdirectory: template\nname:\n  type: str\n  default: demo\n",
    "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
    "template/README.md.jinja": "# {{ name }}\n",
    "template/kept_as_is.txt": "same in v1 and v2\n",
    "template/edit_elsewhere.txt": text(*LINES),
    "template/same_line.txt": text(*LINES),
    "template/removed.txt": "gone in v2\n",
    "template/removed_but_edited.txt": "gone in v2, edited by the user\n",
    "template/old_name.txt": text(*LINES),
    "template/deleted_by_user.txt": text(*LINES),
}
V2_CHANGES = {
    "template/edit_elsewhere.txt": text("line 1 changed by the template\n", *LINES[1:]),
    "template/same_line.txt": text(*LINES[:4], "line 5 from the template\n", *LINES[5:]),
    "template/new_name.txt": text(*LINES[:19], "line 20 from the template\n"),
    "template/deleted_by_user.txt": text("changed in v2\n", *LINES[1:]),
    "template/added.txt.jinja": "new in v2 for {{ name }}\n",
}
V2_REMOVED = ["template/removed.txt", "template/removed_but_edited.txt", "template/old_name.txt"]


def tagged_template(repo: Path) -> Path:
    repo.mkdir(parents=True)
    write(repo, V1)
    make_repo(repo)
    git(repo, "tag", "v1")
    for rel in V2_REMOVED:
        (repo / rel).unlink()
    write(repo, V2_CHANGES)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v2")
    git(repo, "tag", "v2")
    return repo


def _as_cookiecutter(files: dict[str, str]) -> dict[str, str]:
    """The same template as cookiecutter writes it: {{cookiecutter.name}}/ instead of template/, no .jinja."""
    out: dict[str, str] = {}
    for rel, content in files.items():
        if rel in ("copier.yml", "template/{{_copier_conf.answers_file}}.jinja"):
            continue
        rel = rel.replace("template/", "{{cookiecutter.name}}/", 1).removesuffix(".jinja")
        out[rel] = content.replace("{{ name }}", "{{ cookiecutter.name }}")
    return out


def cookiecutter_template(repo: Path) -> Path:
    """:func:`tagged_template`'s cases as a cookiecutter template, tagged v1 and v2, trusted for the test."""
    from conftest import trust_sources

    trust_sources(repo)
    repo.mkdir(parents=True)
    write(repo, {"cookiecutter.json": '{"name": "demo"}', **_as_cookiecutter(V1)})
    make_repo(repo)
    git(repo, "tag", "v1")
    for rel in _as_cookiecutter({r: "" for r in V2_REMOVED}):
        (repo / rel).unlink()
    write(repo, _as_cookiecutter(V2_CHANGES))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v2")
    git(repo, "tag", "v2")
    return repo


def layered_template(root: Path) -> Path:
    """A company layer over :func:`tagged_template`: its v1 extends the base's v1, its v2 the base's v2, and
    it adds a file of its own."""
    base = tagged_template(root / "base")
    layer = root / "layer"
    layer.mkdir(parents=True)
    write(layer, {"shipyard-layer.yml": f"extends: {base}@v1\n",
                  "copier.yml": "_subdirectory: template\n_answers_file: .copier-answers.yml\n",
                  "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
                  "template/COMPANY.md": "Acme\n"})
    make_repo(layer)
    git(layer, "tag", "v1")
    write(layer, {"shipyard-layer.yml": f"extends: {base}@v2\n"})
    git(layer, "commit", "-q", "-am", "v2: on the base's v2")
    git(layer, "tag", "v2")
    return layer


def generate(template: Path, dest: Path, *, conflict: bool = True, engine: str = "copier") -> Path:
    """A project at v1 with the user's edits; ``conflict``: one of them is on a line v2 changes too.

    ``engine`` "copier": made by plain ``copier copy`` (no base recorded); otherwise by ``shipyard new``."""
    if engine == "copier":
        import copier

        copier.run_copy(str(template), dest, vcs_ref="v1", defaults=True, quiet=True)
        make_repo(dest)
    else:
        from conftest import shipyard

        shipyard("new", dest.name, "--path", dest, "--template", f"{template}@v1", check=True)
        git(dest, "config", "user.email", "ana@example.org")
    write(dest, {
        "edit_elsewhere.txt": text(*LINES[:15], "line 16 edited by the user\n", *LINES[16:]),
        **({"same_line.txt": text(*LINES[:4], "line 5 from the user\n", *LINES[5:])} if conflict else {}),
        "removed_but_edited.txt": "the user's own version\n",
        "old_name.txt": text("line 1 edited by the user\n", *LINES[1:]),
        "notes.md": "the user's own file\n",
    })
    (dest / "deleted_by_user.txt").unlink()
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "local edits")
    return dest


