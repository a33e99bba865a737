"""The inputs checks ask for by parameter name, each computed once per audit and only when asked for.

Everything here reads files; nothing runs the project's code, imports it or touches the network
(template freshness asks a remote only when the audit is online: see ``latest_template``).
"""

from __future__ import annotations

import json
import os
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from ..facts import Evidence

PRUNE = {".git", ".hg", ".svn", "node_modules", "__pycache__", "site-packages", "venv", ".venv", "mlruns",
         "mlartifacts", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints",
         "wandb", "dist", "build", ".eggs"}
REPORTS = frozenset({"ADOPTION.md", "doctor.md", "readiness.md"})
MAX_READ = 32 * 1024 * 1024  # a file larger than this is listed, never read
# <...> is a slot left for a human ("<team e-mail>"), unless it holds an address ("Ana Lima <ana@corp.com>")
PLACEHOLDER = re.compile(r"^\s*$|TODO|TBD|FIXME|CHANGEME|example\.(com|org|net)|@example\b|"
                         r"<(?![^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>)[^>]+>|^n/?a$|^none$|"
                         r"^unknown$|^-$|your[ _-]?(name|team|email)", re.I)


def is_placeholder(value: object) -> bool:
    """True for an empty value or one a template left for a human ("TODO: ...", an example.com address)."""
    if value is None:
        return True
    if isinstance(value, (list, dict)):
        return not value
    return bool(PLACEHOLDER.search(str(value)))


@dataclass
class Repo:
    """The repository's files (one walk, dot folders such as ``.github`` included) and their text."""

    root: Path
    files: list[str] = field(default_factory=list)
    _text: dict[str, str | None] = field(default_factory=dict, repr=False)
    _lower: dict[str, str] = field(default_factory=dict, repr=False)
    # per notebook: (offset in its text, 1-based cell index) of each code cell, in order
    _cells: dict[str, list[tuple[int, int]]] = field(default_factory=dict, repr=False)

    @classmethod
    def scan(cls, root: Path) -> Repo:
        repo = cls(root=root)
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda _e: None):
            dirnames[:] = sorted(d for d in dirnames if d not in PRUNE
                                 and not os.path.isfile(os.path.join(dirpath, d, "pyvenv.cfg")))
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            prefix = "" if rel_dir == "." else rel_dir + "/"
            repo.files.extend(prefix + name for name in sorted(filenames))
        return repo

    @classmethod
    def overlay(cls, root: Path, planned: dict[str, bytes]) -> Repo:
        """The repository as it will be once ``planned`` (path -> content) is written: for a readiness audit of
        a plan before anything is applied."""
        repo = cls.scan(root)
        known = set(repo.files)
        repo.files.extend(sorted(p for p in planned if p not in known))
        for rel, data in planned.items():
            repo._text[rel] = repo._decode(rel, data) if len(data) <= MAX_READ else None
        return repo

    @classmethod
    def without(cls, root: Path, generated: frozenset[str]) -> Repo:
        """The repository without ``generated`` (files an adoption writes): the user's own tree."""
        repo = cls.scan(root)
        repo.files = [f for f in repo.files if f not in generated]
        return repo

    @cached_property
    def _set(self) -> frozenset[str]:
        return frozenset(self.files)

    def exists(self, rel: str) -> bool:
        return rel in self._set

    def glob(self, pattern: str) -> list[str]:
        """Files whose repo-relative path matches a regular expression (searched, not anchored)."""
        rx = re.compile(pattern)
        return [f for f in self.files if rx.search(f)]

    def text(self, rel: str) -> str | None:
        """The file's text (UTF-8, undecodable bytes replaced), None when absent or too large. A notebook's
        text is its code cells' sources only: markdown and outputs are not evidence of what the code does."""
        if rel not in self._text:
            path = self.root / rel
            try:
                if path.stat().st_size > MAX_READ:
                    self._text[rel] = None
                else:
                    self._text[rel] = self._decode(rel, path.read_bytes())
            except OSError:
                self._text[rel] = None
        return self._text[rel]

    def _decode(self, rel: str, data: bytes) -> str | None:
        text = data.decode("utf-8", "replace")
        if not rel.endswith(".ipynb"):
            return text
        try:
            doc = json.loads(text)
        except ValueError:
            return None  # a malformed notebook has no code to show
        if not isinstance(doc, dict):
            return None
        cells = doc.get("cells")
        if cells is None:  # nbformat 3
            cells = [c for ws in doc.get("worksheets") or [] if isinstance(ws, dict) for c in ws.get("cells") or []]
        parts: list[str] = []
        offsets: list[tuple[int, int]] = []
        size = 0
        for index, cell in enumerate(cells if isinstance(cells, list) else [], start=1):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = cell.get("source", cell.get("input", ""))
            code = "".join(source) if isinstance(source, list) else str(source or "")
            offsets.append((size, index))
            parts.append(code)
            size += len(code) + 1
        self._cells[rel] = offsets
        return "\n".join(parts)

    def find(self, rel: str, pattern: str | re.Pattern[str], flags: int = 0) -> Evidence | None:
        """Evidence of the first line of ``rel`` matching ``pattern``, None when nothing matches."""
        text = self.text(rel)
        if not text:
            return None
        rx = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, flags)
        needles = needles_of(rx.pattern)
        if needles:  # a cheap substring test first: most files contain none of the pattern's words
            low = self._lower.get(rel)
            if low is None:
                low = self._lower[rel] = text.lower()
            if not any(n in low for n in needles):
                return None
        code = rel.endswith((".py", ".ipynb"))
        for found in rx.finditer(text):
            if code and _in_comment(text, found.start()):
                continue  # a comment that names a practice is not the practice
            return self._at(rel, text, found.start())
        return None

    def _at(self, rel: str, text: str, offset: int) -> Evidence:
        cells = self._cells.get(rel)
        if not cells:
            return at(rel, text, offset)
        start, index = cells[bisect_right(cells, (offset, 1 << 30)) - 1]
        line = text.count("\n", start, offset) + 1
        return replace(at(rel, text, offset), cell=index, line=line)

    def search(self, paths: Iterable[str], pattern: str, flags: int = 0) -> list[Evidence]:
        """The first matching line of each of ``paths`` that matches."""
        rx = re.compile(pattern, flags)
        return [e for e in (self.find(p, rx) for p in paths) if e is not None]

    @cached_property
    def notebooks(self) -> list[str]:
        return [f for f in self.files if f.endswith(".ipynb")]

    @cached_property
    def python(self) -> list[str]:
        return [f for f in self.files if f.endswith(".py")]

    @cached_property
    def code(self) -> list[str]:
        """Python modules and notebooks (searched as text: a notebook's line is the line of its .ipynb)."""
        return self.python + self.notebooks

    @cached_property
    def tests(self) -> list[str]:
        return [f for f in self.python if re.search(r"(^|/)(test_[^/]*|[^/]*_test)\.py$", f)
                or (re.search(r"(^|/)tests?/", f) and f.endswith("conftest.py"))]

    @cached_property
    def docs(self) -> list[str]:
        # ADOPTION.md and doctor's own reports describe readiness: they are not evidence of it
        return [f for f in self.files if f.lower().endswith((".md", ".rst", ".txt"))
                and not f.lower().endswith(("requirements.txt", "constraints.txt"))
                and f not in REPORTS and not f.startswith("reports/")]


@lru_cache(maxsize=512)
def needles_of(pattern: str) -> tuple[str, ...]:
    """Lower-case words one of which every match must contain (one per top-level alternative), or () when
    some alternative has no literal of 3 characters outside groups, classes and optional parts."""
    out = []
    for alternative in _top_level(pattern):
        best = max(_literals(alternative), key=len, default="")
        if len(best) < 3:
            return ()
        out.append(best.lower())
    return tuple(out)


def _top_level(pattern: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(pattern, i)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _class_end(pattern: str, i: int) -> int:
    i += 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _literals(alternative: str) -> list[str]:
    """The runs of plain characters every match of ``alternative`` contains, in order."""
    runs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            runs.append("".join(current))
            current.clear()

    i = 0
    while i < len(alternative):
        ch = alternative[i]
        if ch == "\\" and i + 1 < len(alternative):
            nxt = alternative[i + 1]
            if nxt.isalnum():
                flush()  # \b \s \d \w and back-references are not literal
            else:
                current.append(nxt)
            i += 2
            continue
        if ch == "(":
            depth, j = 1, i + 1
            while j < len(alternative) and depth:
                if alternative[j] == "\\":
                    j += 1
                elif alternative[j] == "(":
                    depth += 1
                elif alternative[j] == ")":
                    depth -= 1
                j += 1
            flush()
            i = j
            continue
        if ch == "[":
            flush()
            i = _class_end(alternative, i)
            continue
        if ch in "?*{":
            if current:
                current.pop()  # the character before is optional
            flush()
            if ch == "{":
                i = alternative.find("}", i) + 1 or len(alternative)
                continue
            i += 1
            continue
        if ch in ".^$+":
            if ch == "+":
                pass  # the character before is required at least once: keep it, end the run
            flush()
            i += 1
            continue
        current.append(ch)
        i += 1
    flush()
    return runs


def _in_comment(text: str, offset: int) -> bool:
    """Whether ``offset`` is inside a ``#`` comment of its line (quotes before the ``#`` balanced)."""
    prefix = text[text.rfind("\n", 0, offset) + 1:offset]
    hash_at = prefix.find("#")
    if hash_at < 0:
        return False
    before = prefix[:hash_at]
    return before.count('"') % 2 == 0 and before.count("'") % 2 == 0


def at(rel: str, text: str, offset: int) -> Evidence:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    snippet = text[start:end if end >= 0 else len(text)].strip()[:160]
    return Evidence(path=rel, line=line, snippet=snippet)


@dataclass
class YamlDoc:
    """A parsed YAML (or JSON) file with the line of each key path, for evidence."""

    path: str
    data: Any
    lines: dict[tuple[object, ...], int]
    error: str = ""

    def get(self, *keys: object, default: Any = None) -> Any:
        node = self.data
        for key in keys:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
                node = node[key]
            else:
                return default
        return node

    def evidence(self, *keys: object) -> Evidence:
        """Evidence at the deepest of ``keys`` that exists (the file's first line when none does)."""
        for depth in range(len(keys), 0, -1):
            line = self.lines.get(tuple(keys[:depth]))
            if line is not None:
                return Evidence(path=self.path, line=line, snippet=".".join(str(k) for k in keys[:depth]))
        return Evidence(path=self.path, line=1)


MAX_YAML_NODES = 100_000


def _expanded_size(root: Any) -> int:
    """How many values the document holds once every alias is expanded, counted without expanding it
    (post-order over the node graph: an alias is the same node object, counted once and reused)."""
    import yaml

    def children(n: Any) -> list[Any]:
        if isinstance(n, yaml.MappingNode):
            return [x for pair in n.value for x in pair]
        return list(n.value) if isinstance(n, yaml.SequenceNode) else []

    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        n, done = stack.pop()
        if id(n) in sizes:
            continue
        kids = children(n)
        if done:
            sizes[id(n)] = min(1 + sum(sizes.get(id(c), 0) for c in kids), 10 * MAX_YAML_NODES)
            continue
        stack.append((n, True))
        stack.extend((c, False) for c in kids if id(c) not in sizes)
    return sizes[id(root)]


def load_yaml(rel: str, text: str) -> YamlDoc:
    """Parse with the safe loader and record the line of each mapping key and list item."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when PyYAML has it: ~10x faster
    try:
        node = loader.get_single_node()  # parsed once: the lines come from the nodes, the data from them too
        if node is not None and _expanded_size(node) > MAX_YAML_NODES:
            return YamlDoc(path=rel, data=None, lines={}, error=f"its aliases expand to more than {MAX_YAML_NODES:,} "
                                                                "values (a YAML bomb?): not read")
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        return YamlDoc(path=rel, data=None, lines={}, error=f"line {mark.line + 1}: {problem}" if mark else problem)
    finally:
        loader.dispose()
    lines: dict[tuple[object, ...], int] = {}

    seen: set[int] = set()

    def walk(n: Any, prefix: tuple[object, ...]) -> None:
        if id(n) in seen:  # an alias points at a node already walked: a YAML bomb must not expand here
            return
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                k = yaml.safe_load(yaml.serialize(key)) if key.tag != "tag:yaml.org,2002:str" else key.value
                lines[(*prefix, k)] = key.start_mark.line + 1
                walk(value, (*prefix, k))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                lines[(*prefix, i)] = item.start_mark.line + 1
                walk(item, (*prefix, i))

    if node is not None:
        walk(node, ())
    return YamlDoc(path=rel, data=data, lines=lines)


COMMENT_LINE = re.compile(r"(?m)^[ \t]*#[^\n]*")


@dataclass(frozen=True, kw_only=True)
class Workflow:
    """A CI definition: a GitHub Actions workflow or the GitLab CI file (with the Makefile recipes it calls)."""

    path: str
    provider: str  # "github" | "gitlab"
    doc: YamlDoc
    on_change: bool  # runs on push or pull/merge request
    scheduled: bool
    text: str  # the file's text plus the recipes of the make targets it runs

    def find(self, pattern: str, flags: int = 0) -> Evidence | None:
        # a commented-out line (a YAML comment, or a shell comment in a run block or recipe) runs nothing
        found = re.search(pattern, COMMENT_LINE.sub(lambda m: " " * len(m.group(0)), self.text), flags)
        if not found:
            return None
        own = self.text.split("\f", 1)[0]
        if found.start() < len(own):
            return at(self.path, own, found.start())
        return Evidence(path=self.path, snippet=f"via make: {found.group(0)[:120]}")


def _triggers(doc: YamlDoc) -> set[str]:
    data = doc.data if isinstance(doc.data, dict) else {}
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as True
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(x) for x in on}
    if isinstance(on, dict):
        return {str(k) for k in on}
    return set()


def _make_recipes(repo: Repo) -> dict[str, str]:
    text = repo.text("Makefile") or ""
    recipes: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        head = re.match(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", line)
        if head:
            current = recipes.setdefault(head.group(1), [])
        elif line.startswith("\t") and current is not None:
            current.append(line.strip())
        elif line.strip() and not line.startswith((" ", "#")):
            current = None
    return {k: "\n".join(v) for k, v in recipes.items()}


def workflows(repo: Repo) -> list[Workflow]:
    recipes = _make_recipes(repo)
    out: list[Workflow] = []
    paths = [(p, "github") for p in repo.glob(r"^\.github/workflows/[^/]+\.ya?ml$")]
    paths += [(p, "gitlab") for p in repo.files if p == ".gitlab-ci.yml"]
    for rel, provider in paths:
        text = repo.text(rel) or ""
        doc = load_yaml(rel, text)
        if provider == "github":
            triggers = _triggers(doc)
            on_change = bool(triggers & {"push", "pull_request", "merge_group"})
            scheduled = "schedule" in triggers
        else:
            on_change = True
            scheduled = "schedule" in text
        called = set(re.findall(r"\bmake\s+(?:-\S+\s+)*([A-Za-z0-9_.-]+)", text))
        extra = "\n".join(recipes[t] for t in sorted(called) if t in recipes)
        out.append(Workflow(path=rel, provider=provider, doc=doc, on_change=on_change, scheduled=scheduled,
                            text=text + ("\f" + extra if extra else "")))
    return out


def first(items: Iterable[Evidence | None]) -> Evidence | None:
    return next((e for e in items if e is not None), None)


def in_ci(flows: list[Workflow], pattern: str, *, scheduled: bool | None = None) -> Evidence | None:
    """Where a CI workflow (on every change, or on a schedule when ``scheduled``) runs ``pattern``."""
    for wf in flows:
        if scheduled is True and not wf.scheduled:
            continue
        if scheduled is False and not wf.on_change:
            continue
        if scheduled is None and not (wf.on_change or wf.scheduled):
            continue
        ev = wf.find(pattern)
        if ev is not None:
            return ev
    return None


def iter_yaml(repo: Repo, paths: Iterable[str]) -> Iterator[YamlDoc]:
    for rel in paths:
        text = repo.text(rel)
        if text is not None:
            yield load_yaml(rel, text)


def load_json(repo: Repo, rel: str) -> dict[str, Any] | None:
    text = repo.text(rel)
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def today() -> date:
    return date.today()
