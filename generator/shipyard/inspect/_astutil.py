"""Small AST helpers shared by the inspection modules (no I/O)."""

from __future__ import annotations

import ast
import posixpath
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    """A parsed code cell (or a whole ``.py`` file): 1-based index, neutralised code, tree or None."""

    index: int
    source: str  # as written
    code: str  # neutralised (magics commented out); same line numbers as ``source``
    tree: ast.Module | None


def parse(code: str) -> tuple[ast.Module | None, SyntaxError | None]:
    """Parse ``code`` as Python 3, silencing warnings (invalid escapes in Windows paths)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(code), None
        except SyntaxError as exc:
            return None, exc
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            return None, SyntaxError(str(exc) or type(exc).__name__)


def walk_ordered(node: ast.AST) -> Iterator[ast.AST]:
    """Yield ``node`` and its descendants depth-first in source order (iteratively)."""
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(ast.iter_child_nodes(current))))


def dotted(node: ast.AST) -> str:
    """``np.random.seed`` -> "np.random.seed"; "" when the expression is not a dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


class Aliases:
    """Names bound by imports, mapped to fully qualified dotted names."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def add(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.names[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    self.names[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def resolve(self, node: ast.AST) -> str:
        """Qualified dotted name of ``node`` (unchanged when its head was not imported)."""
        name = dotted(node)
        if not name:
            return ""
        head, _, rest = name.partition(".")
        full = self.names.get(head)
        if full is None:
            return name
        return f"{full}.{rest}" if rest else full


_CWD_CALLS = {"os.getcwd", "pathlib.Path.cwd", "Path.cwd", "os.path.abspath", "os.curdir"}
_PATH_CLASSES = {"Path", "pathlib.Path", "PurePath", "PosixPath", "WindowsPath", "pathlib.PurePath"}
_JOIN_CALLS = {"os.path.join", "path.join", "join", "posixpath.join", "ntpath.join"}


def const_str(node: ast.AST | None, env: Mapping[str, str], aliases: Aliases | None = None) -> str | None:
    """Evaluate a string-valued expression made of literals (best effort), else None.

    Handles constants, names bound earlier to such values (``env``), f-strings whose parts are known,
    ``+`` and pathlib ``/``, ``os.path.join``, ``Path(...)``, ``str(...)`` and ``os.getcwd()`` (".").
    """
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                text = const_str(value.value, env, aliases)
            else:
                text = const_str(value, env, aliases)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Div):
        left = const_str(node.left, env, aliases)
        right = const_str(node.right, env, aliases)
        if left is None or right is None:
            return None
        return left + right if isinstance(node.op, ast.Add) else _join([left, right])
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        base = const_str(node.value, env, aliases)
        return None if base is None else _parent(base)
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents"
            and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int)):
        base = const_str(node.value.value, env, aliases)
        if base is None:
            return None
        for _ in range(node.slice.value + 1):
            base = _parent(base)
        return base
    if isinstance(node, ast.Call):
        name = aliases.resolve(node.func) if aliases else dotted(node.func)
        if name in _CWD_CALLS and not node.args:
            return "."
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("resolve", "absolute", "expanduser") \
                and not node.args:
            return const_str(node.func.value, env, aliases)  # a path of the repo stays one
        if isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath":
            base = const_str(node.func.value, env, aliases)
            rest = [const_str(a, env, aliases) for a in node.args]
            if base is None or any(r is None for r in rest):
                return None
            return _join([base, *[r for r in rest if r is not None]])
        if name in _JOIN_CALLS or name in _PATH_CLASSES or name == "str":
            values = [const_str(a, env, aliases) for a in node.args]
            if not values or any(v is None for v in values) or node.keywords:
                return None
            if name == "str":
                return values[0] if len(values) == 1 else None
            return _join([v for v in values if v is not None])
    return None


_NOT_LITERAL = object()


def literal_value(node: ast.AST | None, literals: Mapping[str, object], env: Mapping[str, str],
                  aliases: Aliases | None = None) -> object:
    """A literal argument's value (numbers, strings, None, booleans, lists, tuples and dicts of them),
    also through names bound earlier to such values (``literals``) or to known strings (``env``);
    ``_NOT_LITERAL`` otherwise. Tuples come back as lists (the value is stored as JSON)."""
    if node is None:
        return _NOT_LITERAL
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str | int | float | bool | type(None)) else _NOT_LITERAL
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = literal_value(node.operand, literals, env, aliases)
        return -inner if isinstance(inner, int | float) and not isinstance(inner, bool) else _NOT_LITERAL
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [literal_value(e, literals, env, aliases) for e in node.elts]
        return _NOT_LITERAL if any(i is _NOT_LITERAL for i in items) else items
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            return _NOT_LITERAL
        keys = [literal_value(k, literals, env, aliases) for k in node.keys]
        values = [literal_value(v, literals, env, aliases) for v in node.values]
        if any(x is _NOT_LITERAL for x in keys + values) or not all(isinstance(k, str | int) for k in keys):
            return _NOT_LITERAL
        return dict(zip(keys, values, strict=True))
    if isinstance(node, ast.Name):
        if node.id in literals:
            return literals[node.id]
        if node.id in env:
            return env[node.id]
        return _NOT_LITERAL
    text = const_str(node, env, aliases)
    return text if text is not None else _NOT_LITERAL


def is_literal(value: object) -> bool:
    return value is not _NOT_LITERAL


def _parent(path: str) -> str:
    """``Path(path).parent`` for the repo-relative paths inspection works with ("" is the repo root)."""
    trimmed = path.rstrip("/\\")
    cut = max(trimmed.rfind("/"), trimmed.rfind("\\"))
    return trimmed[:cut] if cut > 0 else ("/" if cut == 0 else "")


def _join(parts: list[str]) -> str:
    out = ""
    for part in parts:
        if re.match(r"^([A-Za-z]:)?[\\/]", part) or not out:
            out = part
        else:
            sep = "" if out.endswith(("/", "\\")) else ("\\" if "\\" in out and "/" not in out else "/")
            out = out + sep + part
    return posixpath.normpath(out) if out.startswith("./") else out


_STRING = re.compile(r'^[rRuU]?("""|\'\'\'|"|\')(.*)\1$', re.S)


def written_literal(code: str, node: ast.AST) -> str | None:
    """The text between the quotes of a single string literal exactly as written, else None."""
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        return None
    segment = ast.get_source_segment(code, node)
    if segment is None:
        return None
    match = _STRING.match(segment)
    if not match or match.group(1) in match.group(2):
        return None
    return match.group(2)


def source_of(code: str, node: ast.AST, limit: int = 120) -> str:
    text = ast.get_source_segment(code, node) or ""
    if not text:
        try:
            text = ast.unparse(node)
        except Exception:  # pragma: no cover - unparse of odd trees
            text = ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def line_of(code: str, lineno: int) -> str:
    lines = code.splitlines()
    if 1 <= lineno <= len(lines):
        text = lines[lineno - 1].strip()
        return text if len(text) <= 160 else text[:157] + "..."
    return ""
