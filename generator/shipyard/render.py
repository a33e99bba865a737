"""Template sources and rendering.

A :class:`TemplateSource` says where a template comes from: the built-in
``production`` template shipped inside the wheel, a local folder, or a git URL
with an optional ``@ref``. :func:`render` renders one into a staging folder
with copier, never into the user's repo: :mod:`shipyard.plan` decides what
reaches the repo.

The built-in template is materialised as a small git repository in Shipyard's
cache, one commit and tag per template version. Copier then records a real
``_src_path`` and ``_commit`` in ``.copier-answers.yml``, so that both
plain ``copier update`` and ``shipyard update`` can do a 3-way update later.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .errors import TemplateError, UnsafePathError, UntrustedTemplateError

BUILTIN_TEMPLATES = ("production",)
_GIT_URL = re.compile(r"^(gh:|gl:|git\+|https?://|git@|ssh://|file://)")


@dataclass(frozen=True, kw_only=True)
class TemplateSource:
    """Where a template comes from. ``kind`` is ``builtin``, ``path`` or ``git``."""

    kind: str
    location: str  # builtin name, absolute folder path, or git URL
    ref: str | None = None  # git tag/branch/commit; None = latest tag (copier's default)
    engine: str = "copier"  # or "cookiecutter" (a cookiecutter.json template); git URLs: found when rendered
    configured_trust: bool = False  # under a prefix the config trusts (see shipyard.config)

    @property
    def trusted(self) -> bool:
        """Shipyard's own templates and the sources the config trusts may run tasks, hooks, extensions."""
        return self.kind == "builtin" or self.configured_trust

    def display(self) -> str:
        """The source as it may be shown and recorded: credentials in a URL are never part of it."""
        if self.kind == "builtin":
            return self.location
        location = without_credentials(self.location)
        return f"{location}@{self.ref}" if self.ref else location


def without_credentials(url: str) -> str:
    """``https://user:token@host/x`` -> ``https://host/x`` (ssh's ``git@host`` user is not a secret)."""
    from urllib.parse import urlsplit, urlunsplit

    if not re.match(r"^(git\+)?https?://", url):
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


_UNSAFE_URL = re.compile(r"(^-)|(\.\.)|(%2e)|(%2f)|(%5c)|(\\)|[\x00-\x1f ]", re.IGNORECASE)


def check_url(spec: str) -> None:
    """Refuse template URLs that could point somewhere else than they seem or be read as an option."""
    found = _UNSAFE_URL.search(spec)
    if found:
        shown = without_credentials(spec)
        raise TemplateError(f"template URL {shown!r} is refused: it contains {found.group(0)!r}",
                            hint="give a plain URL without '..', encoded dots or slashes, backslashes, "
                                 "control characters or a leading '-'")


def builtin_dir(name: str = "production") -> Path:
    """The folder of a built-in template: inside the wheel, or in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates" / name, here.parent.parent / "templates" / name):
        if (candidate / "copier.yml").is_file():
            return candidate
    raise TemplateError(f"built-in template '{name}' is missing from this installation",
                        hint="reinstall shipyard")


def parse_source(spec: str | None, *, cwd: Path | None = None) -> TemplateSource:
    """Turn ``--template`` text (or a name from the config, or nothing: the configured default) into a
    :class:`TemplateSource`."""
    from dataclasses import replace

    from .config import load

    config = load()
    if not spec and config.default_template:
        spec = config.default_template
    if spec and spec in config.templates and spec not in BUILTIN_TEMPLATES:
        spec = config.templates[spec]
    source = _parse(spec, cwd=cwd)
    if source.kind != "builtin" and any(_under(source.location, prefix) for prefix in config.trusted):
        source = replace(source, configured_trust=True)
    return source


def _under(location: str, prefix: str) -> bool:
    """``location`` is ``prefix`` or below it (whole path segments; a folder prefix is resolved)."""
    if not _GIT_URL.match(prefix):
        prefix = str(Path(prefix).expanduser().resolve())
    if _GIT_URL.match(prefix):
        check_url(prefix)
    location = without_credentials(location)
    return location == prefix.rstrip("/") or location.startswith(prefix.rstrip("/") + "/")


def _parse(spec: str | None, *, cwd: Path | None = None) -> TemplateSource:
    if not spec or spec in BUILTIN_TEMPLATES:
        return TemplateSource(kind="builtin", location=spec or "production")
    if spec.startswith("-"):
        check_url(spec)
    if _GIT_URL.match(spec):
        check_url(spec)
        location, ref = spec, None
        # url@ref, but not the user@host of ssh URLs
        head, sep, tail = spec.rpartition("@")
        # the ref follows a path (".../repo.git@v1"); "git@host:org/x" and "https://user@host/x" have none
        if sep and "/" not in tail and ":" not in tail and re.search(r"[^/:]/[^/]", head.split("://", 1)[-1]):
            location, ref = head, tail
        return TemplateSource(kind="git", location=location, ref=ref)
    path_text, ref = spec, None
    if "@" in spec and not Path(spec).exists():
        path_text, _, ref = spec.rpartition("@")
    path = (cwd or Path.cwd()) / Path(path_text).expanduser()
    if not path.exists():
        raise TemplateError(f"template not found: {spec}",
                            hint="give 'production', a folder with copier.yml, or a git URL[@ref]")
    from .cookie import is_cookiecutter

    if is_cookiecutter(path):
        return TemplateSource(kind="path", location=str(path.resolve()), ref=ref, engine="cookiecutter")
    if not (path / "copier.yml").is_file() and not (path / "copier.yaml").is_file():
        raise TemplateError(f"{spec} is not a template (no copier.yml or cookiecutter.json)",
                            hint="point --template at the folder holding copier.yml or cookiecutter.json")
    return TemplateSource(kind="path", location=str(path.resolve()), ref=ref)


def cache_dir() -> Path:
    """Shipyard's cache: ``$SHIPYARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/shipyard``, else ``~/.cache/shipyard``."""
    env = os.environ.get("SHIPYARD_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "shipyard"


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _git(args: list[str], cwd: Path) -> str:
    from .gitinfo import IDENTITY

    env = {**os.environ, **IDENTITY,  # a fixed date: the same template content gives the same commit
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
                          cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise TemplateError(f"git {' '.join(args[:2])} failed in {cwd}: {done.stderr.strip()[:200]}",
                            hint="check that git works and the cache folder is writable")
    return done.stdout.strip()


def materialise_builtin(name: str = "production") -> tuple[Path, str]:
    """Keep a git copy of a built-in template in the cache, one commit + tag per version.

    Returns the repository path and the tag of the current content. Idempotent and
    cheap when the content has not changed (one digest of the template folder).
    """
    import fcntl

    source = builtin_dir(name)
    repo = cache_dir() / "templates" / name
    quick = repo / ".git" / "shipyard-stat" / _stat_signature(source)
    if quick.is_file():  # same files, sizes and mtimes as last time: no need to hash the contents
        return repo, quick.read_text(encoding="utf-8").strip()
    digest = _tree_digest(source)
    repo.mkdir(parents=True, exist_ok=True)
    with open(repo.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = repo / ".git" / "shipyard-digests"
        known = dict(line.split(" ", 1) for line in marker.read_text().splitlines()) if marker.exists() else {}
        if digest in known:
            _remember(quick, known[digest].strip())
            return repo, known[digest].strip()
        if not (repo / ".git").exists():
            _git(["init", "-q", "-b", "main"], repo)
        for child in repo.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.copytree(source, repo, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _git(["add", "-A"], repo)
        _git(["commit", "-q", "--allow-empty", "-m", f"shipyard {__version__} template {digest[:12]}"], repo)
        tag = f"v{__version__}"
        if tag in _git(["tag", "--list", tag], repo).split():
            tag = f"v{__version__}+{digest[:8]}"
        _git(["tag", tag], repo)
        with marker.open("a") as out:
            out.write(f"{digest} {tag}\n")
        _remember(quick, tag)
        return repo, tag


def _stat_signature(folder: Path) -> str:
    """A cheap fingerprint of a folder: paths, sizes and modification times (no contents read)."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            st = os.stat(os.path.join(dirpath, name))
            digest.update(f"{os.path.relpath(os.path.join(dirpath, name), folder)}\0{st.st_size}\0"
                          f"{st.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:32]


def _remember(path: Path, tag: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tag, encoding="utf-8")
    except OSError:  # a read-only cache still works, only slower
        pass


def portable(path: Path) -> str:
    """A path under the home folder as ``~/...`` (copier expands it), so that the built-in template's
    cached copy is recorded the same way on every machine with the default cache."""
    try:
        return "~/" + path.resolve().relative_to(Path.home().resolve()).as_posix()
    except ValueError:
        return str(path)


def _record_git_source(answers_file: Path, rendered_from: str, src_path: str, tag: str) -> None:
    """Point ``.copier-answers.yml`` at the cached git repo and its tag (``_src_path``, ``_commit``)."""
    import yaml

    def scalar(value: str) -> str:
        return yaml.safe_dump(value, allow_unicode=True, width=1_000_000).removesuffix("\n...\n").strip()

    text = answers_file.read_text(encoding="utf-8")
    old = f"_src_path: {scalar(rendered_from)}\n"
    if old not in text:
        raise TemplateError(f"unexpected answers file from the built-in template: {answers_file.name}",
                            hint="reinstall shipyard")
    answers_file.write_text(text.replace(old, f"_commit: {scalar(tag)}\n_src_path: {scalar(src_path)}\n", 1),
                            encoding="utf-8")


@dataclass(frozen=True, kw_only=True)
class Rendered:
    folder: Path  # the staging folder holding the rendered files
    source: TemplateSource
    src_path: str  # what copier recorded as _src_path
    version: str  # template version (tag) or "" when unversioned
    answers: Mapping[str, Any]


def render(source: TemplateSource, answers: Mapping[str, Any], dest: Path, *, trust: bool = False,
           _depth: int = 0) -> Rendered:
    """Render ``source`` with ``answers`` into the empty folder ``dest`` (never the user's repo).

    A layered template (one with ``shipyard-layer.yml``) renders the template it extends first, then its
    own files over it (:mod:`shipyard.layers`).
    """
    if source.kind != "builtin":
        from dataclasses import replace

        from .layers import LAYER_FILE, parse_layer, peek, render_layered

        # one look at the template's root files (one clone of a git URL) tells the layer and the engine
        found = peek(source, (LAYER_FILE, "cookiecutter.json", "copier.yml", "copier.yaml"))
        if source.kind == "git" and "cookiecutter.json" in found and not {"copier.yml", "copier.yaml"} & set(found):
            source = replace(source, engine="cookiecutter")
        config_text = (found.get("copier.yml") or found.get("copier.yaml") or b"").decode("utf-8", "replace")
        if re.search(r"(?m)^_migrations\s*:", config_text) and not (trust or source.trusted):
            # copier runs migrations only in `copier update`, unasked; Shipyard never runs them, and a
            # template that ships them is treated as one that runs code
            raise UntrustedTemplateError(f"template {source.display()} has _migrations: commands it would run "
                                         "on this machine when a project is updated",
                                         hint="read them, then pass --trust if you accept that")
        layer = parse_layer(found[LAYER_FILE], source.display()) if LAYER_FILE in found else None
        if layer is not None:
            rendered = render_layered(source, layer, answers, dest, trust=trust, depth=_depth, render_one=_render_one)
            if not (dest / ".copier-answers.yml").is_file():
                raise TemplateError(f"layer {source.display()} renders no .copier-answers.yml",
                                    hint="add {{_copier_conf.answers_file}}.jinja to the layer's files")
            return rendered
    return _render_one(source, answers, dest, trust=trust)


def _render_one(source: TemplateSource, answers: Mapping[str, Any], dest: Path, *, trust: bool = False) -> Rendered:
    if source.engine == "cookiecutter":
        from . import cookie

        shown = without_credentials(source.location)
        version, recorded = cookie.render(source.location, shown, source.ref, answers, dest,
                                          trust=trust or source.trusted)
        return Rendered(folder=dest, source=source, src_path=shown, version=version,
                        answers={**dict(answers), **recorded})
    import copier
    from copier.errors import CopierError, ForbiddenPathError, UnsafeTemplateError

    render_from: str | None = None
    if source.kind == "builtin":
        src, version = materialise_builtin(source.location)
        src_path, ref = portable(src), version
        # The cached repo's tag holds exactly the files of the installed template (checked by digest),
        # so render straight from those files and skip copier's git clone; the answers file is then
        # given the git source and tag, as copier would have written them.
        render_from = str(builtin_dir(source.location))
    else:
        src_path, ref, version = source.location, source.ref, source.ref or ""
    chatter = io.StringIO()  # copier prints some notices to stderr itself: passed on only after a success
    try:
        with contextlib.redirect_stderr(chatter):
            copier.run_copy(
                render_from or src_path, dest, data=dict(answers), vcs_ref=None if render_from else ref,
                defaults=True, overwrite=True, quiet=True, unsafe=trust or source.trusted, cleanup_on_error=False,
            )
        for line in chatter.getvalue().splitlines():
            if line.strip() and "No git tags found in template" not in line:  # Shipyard records HEAD itself
                print(_scrub(line, src_path), file=sys.stderr)
        if render_from:
            _record_git_source(dest / ".copier-answers.yml", render_from, src_path, version)
        elif without_credentials(src_path) != src_path:  # a token in the URL never reaches a generated file
            _scrub_files(dest, src_path)
    except UnsafeTemplateError as exc:
        raise UntrustedTemplateError(
            f"template {source.display()} wants to run code on this machine ({exc})",
            hint="read the template, then pass --trust if you accept that",
        ) from exc
    except ForbiddenPathError as exc:
        raise UnsafePathError(f"template {source.display()} has a path that leads outside the template or the "
                              f"project ({_scrub(str(exc), src_path)}: a symlink or a name rendering to ../ or "
                              "an absolute path)", hint="templates may only produce regular files inside the "
                                                        "project; nothing was written") from exc
    except CopierError as exc:
        raise TemplateError(f"template {source.display()} failed to render: {_scrub(str(exc), src_path)}",
                            hint="check the template and the answers") from exc
    except ValueError as exc:
        if "null byte" not in str(exc):
            raise TemplateError(f"template {source.display()} failed to render: ValueError: "
                                f"{_scrub(str(exc), src_path)}", hint="check the template and the answers") from exc
        raise UnsafePathError(f"template {source.display()} renders a path with a NUL byte",
                              hint="templates may only produce regular files inside the project; nothing was "
                                   "written") from exc
    except Exception as exc:  # Jinja errors, git errors ... translated at the boundary
        raise TemplateError(f"template {source.display()} failed to render: {type(exc).__name__}: "
                            f"{_scrub(str(exc), src_path)}",
                            hint="check the template and the answers") from exc
    # What copier recorded, read from its answers file: the worker's template is gone with copier's clone.
    recorded = _answers_file(dest)
    if not version or source.kind == "git" or (source.kind == "path" and not source.ref):
        version = str(recorded.get("_commit") or version or "")
    given = {k: v for k, v in recorded.items() if not str(k).startswith("_")}
    return Rendered(folder=dest, source=source, src_path=src_path, version=version,
                    answers={**dict(answers), **given})


def _scrub(text: str, url: str) -> str:
    return text.replace(url, without_credentials(url))


def _scrub_files(dest: Path, url: str) -> None:
    """Copier hands the template its URL, credentials included (``_copier_answers._src_path``): take the URL's
    credentials out of every rendered file, whatever the template did with them."""
    from urllib.parse import urlsplit

    userinfo = urlsplit(url).netloc.rsplit("@", 1)[0]
    secret = userinfo.split(":", 1)[1] if ":" in userinfo else userinfo
    pairs = [(url.encode(), without_credentials(url).encode()), (f"{userinfo}@".encode(), b"")]
    if secret:
        pairs.append((secret.encode(), b"***"))
    for path in dest.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        clean = data
        for old, new in pairs:
            clean = clean.replace(old, new)
        if clean != data:
            path.write_bytes(clean)


def _answers_file(dest: Path) -> dict[str, Any]:
    import yaml

    path = dest / ".copier-answers.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def template_questions(source: TemplateSource, _depth: int = 0) -> dict[str, str] | None:
    """The template's questions and their types, from its copier.yml (None when only a clone would tell);
    a layer's include those of every template below it."""
    from .layers import MAX_DEPTH

    if _depth >= MAX_DEPTH:
        raise TemplateError(f"template {source.display()} extends templates more than {MAX_DEPTH} deep",
                            hint="check shipyard-layer.yml: does it extend itself?")
    own = _own_questions(source)
    if own is None or source.kind == "builtin":
        return own
    from .layers import below, layer_of

    layer = layer_of(source)
    if layer is None:
        return own
    under = template_questions(below(source, layer), _depth + 1)
    return None if under is None else {**under, **own}


def _own_questions(source: TemplateSource) -> dict[str, str] | None:
    import yaml

    if source.kind == "builtin":
        folder = builtin_dir(source.location)
    elif source.kind == "path":
        folder = Path(source.location)
    else:
        return None
    if source.kind == "path" and source.ref and (folder / ".git").exists():
        import tempfile

        # the questions of the version asked for, not of the working tree
        with tempfile.TemporaryDirectory(prefix="shipyard-questions-") as tmp:
            for name in ("cookiecutter.json", "copier.yml", "copier.yaml"):
                done = subprocess.run(["git", "-C", str(folder), "show", f"{source.ref}:{name}"], capture_output=True)
                if done.returncode == 0:
                    Path(tmp, name).write_bytes(done.stdout)
            from dataclasses import replace

            return _own_questions(replace(source, location=tmp, ref=None))
    if source.engine == "cookiecutter":
        from .cookie import questions

        return questions(folder)
    for name in ("copier.yml", "copier.yaml"):
        path = folder / name
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise TemplateError(f"{path} is not valid YAML: {exc}", hint="fix the template's copier.yml") from exc
            return {k: str(v.get("type", "str")) if isinstance(v, dict) else "str"
                    for k, v in data.items() if isinstance(k, str) and not k.startswith("_")}
    return None


def parse_values(values: Mapping[str, str], questions: Mapping[str, Any] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs checked against the template's questions, typed as the questions are."""
    import yaml

    from .errors import UsageError

    out: dict[str, Any] = {}
    for key, text in values.items():
        if key.startswith("_"):
            raise UsageError(f"--set {key}: copier's own settings cannot be set", hint="set a template question")
        if questions is not None and key not in questions:
            known = ", ".join(sorted(questions)[:15])
            raise UsageError(f"--set {key}: the template has no such question", hint=f"its questions: {known}")
        kind = questions.get(key, "yaml") if questions is not None else "yaml"
        if kind == "str":
            out[key] = text
            continue
        try:
            out[key] = yaml.safe_load(text)
        except yaml.YAMLError:
            out[key] = text
    return out
