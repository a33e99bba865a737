"""Layered templates: a company template that extends another and holds only what it adds or overrides.

A layer is a copier template with a ``shipyard-layer.yml`` at its root, the one file a platform team
reads to know what its template changes::

    extends: production          # the template below: built in, a folder (relative to this one), a git URL[@ref]
    remove:                      # files of the template below that this one drops (optional)
      - docker-compose.yml

Rendering renders the template below first (itself possibly a layer), then this layer's files on top
of it: a file of the layer replaces the file of the same path, a new one is added, ``remove`` drops
files. Both get the same answers; the recorded answers file is the layer's, holding the answers of
every layer, so ``update`` replays them all. An update of the template below reaches the projects of
the layer at their next ``shipyard update`` (pin ``extends: SOURCE@REF`` to take it deliberately).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .errors import TemplateError
from .gitinfo import latest_tag

if TYPE_CHECKING:
    from .render import Rendered, TemplateSource

LAYER_FILE = "shipyard-layer.yml"
MAX_DEPTH = 5


@dataclass(frozen=True, kw_only=True)
class Layer:
    extends: str
    remove: tuple[str, ...] = ()


def peek(source: TemplateSource, names: tuple[str, ...]) -> dict[str, bytes]:
    """Files at the root of a template at its ref, without rendering it."""
    out: dict[str, bytes] = {}
    if source.kind == "builtin":
        from .render import builtin_dir

        folder = builtin_dir(source.location)
        return {n: (folder / n).read_bytes() for n in names if (folder / n).is_file()}
    folder = Path(source.location)
    if source.kind == "path" and not (source.ref and (folder / ".git").exists()):
        return {n: (folder / n).read_bytes() for n in names if (folder / n).is_file()}
    with tempfile.TemporaryDirectory(prefix="shipyard-peek-") as tmp:
        if source.kind == "path":
            repo = folder
        else:
            done = subprocess.run(["git", "clone", "-q", "--no-checkout", source.location, tmp], capture_output=True)
            if done.returncode != 0:
                return {}
            repo = Path(tmp)
        ref = source.ref or latest_tag(repo) or "HEAD"
        for name in names:
            shown = subprocess.run(["git", "-C", str(repo), "show", f"{ref}:{name}"], capture_output=True)
            if shown.returncode == 0:
                out[name] = shown.stdout
    return out


def parse_layer(data: bytes, where: str) -> Layer:
    import yaml

    try:
        spec = yaml.safe_load(data.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{where}/{LAYER_FILE} is not valid YAML: {exc}", hint="fix the layer file") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("extends"), str) or not spec["extends"].strip():
        raise TemplateError(f"{where}/{LAYER_FILE} must say which template it extends (extends: SOURCE)",
                            hint="for example: extends: production")
    remove = spec.get("remove") or []
    if not isinstance(remove, list) or not all(isinstance(r, str) for r in remove):
        raise TemplateError(f"{where}/{LAYER_FILE}: remove must be a list of paths", hint="remove: [docker-compose.yml]")
    from .paths import safe_relpath

    return Layer(extends=spec["extends"].strip(), remove=tuple(str(safe_relpath(r)) for r in remove))


def layer_of(source: TemplateSource) -> Layer | None:
    found = peek(source, (LAYER_FILE,))
    return parse_layer(found[LAYER_FILE], source.display()) if LAYER_FILE in found else None


def below(source: TemplateSource, layer: Layer) -> TemplateSource:
    """The template a layer extends; a relative folder is relative to the layer's own folder."""
    from .render import parse_source

    cwd = Path(source.location) if source.kind == "path" else None
    return parse_source(layer.extends, cwd=cwd)


def render_layered(source: TemplateSource, layer: Layer, answers: Mapping[str, Any], dest: Path, *, trust: bool,
                   depth: int, render_one: Any) -> Rendered:
    """Render the template below into ``dest``, then ``source``'s own files over it."""
    import yaml

    from .render import Rendered, render

    if depth >= MAX_DEPTH:
        raise TemplateError(f"template {source.display()} extends templates more than {MAX_DEPTH} deep",
                            hint=f"check {LAYER_FILE}: does it extend itself?")
    base = render(below(source, layer), answers, dest, trust=trust, _depth=depth + 1)
    for rel in layer.remove:  # files (or folders) of the template below; the layer's own files come after
        target = dest / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="shipyard-layer-") as tmp:
        top = render_one(source, {**dict(base.answers), **dict(answers)}, Path(tmp) / "layer", trust=trust)
        for path in sorted(p for p in top.folder.rglob("*") if p.is_file()):
            rel = path.relative_to(top.folder)
            if rel.parts[0] == ".git":
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    answers_file = dest / ".copier-answers.yml"
    recorded: dict[str, Any] = {}
    if answers_file.is_file():
        recorded = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
        own = {k: v for k, v in recorded.items() if str(k).startswith("_")}
        merged = {**{k: v for k, v in base.answers.items() if not str(k).startswith("_")},
                  **{k: v for k, v in recorded.items() if not str(k).startswith("_")}}
        header = "# Written by shipyard: every layer's answers, for `shipyard update`.\n"
        answers_file.write_text(header + yaml.safe_dump({**own, **merged}, sort_keys=True, allow_unicode=True),
                                encoding="utf-8")
    return Rendered(folder=dest, source=source, src_path=top.src_path, version=top.version,
                    answers={**dict(base.answers), **dict(top.answers)})


def removed(layer: Layer) -> tuple[PurePosixPath, ...]:
    return tuple(PurePosixPath(r) for r in layer.remove)
