"""Mechanical modernisation of the training notebook's code, in the generated module only.

Where a *safe* rewrite exists for an API removed from current libraries, or for Python 2 syntax, the
module written by ``shipyard adopt`` uses it and each rewrite is reported (``modernised``); what looks
fixable but is not safe to rewrite is left as written and reported with what to change
(``modernise-by-hand``). The notebook itself is never changed.

One small registered rule per rewrite (:data:`shipyard.modernise_rules.RULES`; the Python 2
statements are in :mod:`shipyard.modernise_py2`). A rule reads one cell and yields fixes (text edits,
with the reason) and notes; :meth:`Moderniser.cell` applies them so that:

* every line stays where it was (a cell keeps its number of lines), so error line numbers still point
  at the notebook's cells; a changed line ends with ``# [shipyard] was: <the line as written>``;
* the result parses: a fix whose result does not parse is dropped, and the old text kept.

Python 3 code is read with :mod:`ast`: node positions, and names resolved through the notebook's
imports (earlier cells included), so ``np.float`` is rewritten only where ``np`` is numpy.
"""

from __future__ import annotations

import ast
import bisect
import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

from .facts import Evidence, Finding, Severity
from .inspect._astutil import Aliases, parse, walk_ordered
from .inspect.imports import REMOVED_MODULES, REMOVED_NAMES

MARK = "# [shipyard] "


@dataclass(frozen=True, kw_only=True)
class Change:
    """One rewrite: the rule, the 1-based line in the cell, the code before and after, and why."""

    rule: str
    line: int
    before: str
    after: str
    why: str


@dataclass(frozen=True, kw_only=True)
class ByHand:
    """Something a rule recognises but cannot rewrite safely: left as written; what to change."""

    rule: str
    line: int | None
    message: str


@dataclass(frozen=True, kw_only=True)
class CellResult:
    source: str  # the cell for the module: the input unchanged when nothing was rewritten
    changes: tuple[Change, ...] = ()
    by_hand: tuple[ByHand, ...] = ()
    settled: tuple[str, ...] = ()  # removed APIs (named as inspection names them) the module's cell no longer uses
    ported: bool = False  # the cell did not parse as Python 3, and now does

    def findings(self, path: str, cell: int) -> list[Finding]:
        out = [Finding(code="modernised", severity=Severity.INFO, evidence=Evidence(path=path, cell=cell, line=c.line),
                       message=f"in the module, {code(c.before)} became {code(c.after)} ({c.why}); "
                               "the notebook is unchanged") for c in self.changes]
        out += [Finding(code="modernise-by-hand", severity=Severity.WARNING,
                        evidence=Evidence(path=path, cell=cell, line=n.line), message=n.message) for n in self.by_hand]
        out += [Finding(code="removed-api", severity=Severity.INFO, evidence=Evidence(path=path, cell=cell),
                        message=f"{path} cell {cell} uses {api}: the module uses the replacement (see "
                                "\"Modernised in the module\" in ADOPTION.md); the notebook is unchanged")
                for api in self.settled]
        return out


def code(text: str) -> str:
    """``text`` as Markdown inline code, on one line."""
    text = " ".join(text.split())
    text = text if len(text) <= 120 else text[:117] + "..."
    return f"`` {text} ``" if "`" in text else f"`{text}`"


# -- text edits --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    start: int  # character offsets into the cell's text
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    rule: str
    why: str
    unit: tuple[int, int]  # the code shown as "before" and "after" (covers every edit)
    edits: tuple[Edit, ...]


def make_fix(rule: str, why: str, unit: tuple[int, int], edits: Iterable[Edit]) -> Fix:
    edits = tuple(edits)
    start = min([unit[0], *(e.start for e in edits)])
    end = max([unit[1], *(e.end for e in edits)])
    return Fix(rule=rule, why=why, unit=(start, end), edits=edits)


class Text:
    """A cell's text with offsets for ``tokenize`` (row, character column) and ``ast`` (row, UTF-8 byte)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def at(self, row: int, col: int) -> int:
        return self.starts[row - 1] + col

    def _ast(self, row: int, byte_col: int) -> int:
        line = self.lines[row - 1]
        return self.starts[row - 1] + len(line.encode("utf-8")[:byte_col].decode("utf-8", "ignore"))

    def start(self, node: ast.AST) -> int:
        return self._ast(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self._ast(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.start(node), self.end(node)

    def seg(self, node: ast.AST) -> str:
        return self.text[self.start(node) : self.end(node)]

    def row(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def _clash(a: Edit, b: Edit) -> bool:
    return a.start == b.start or (a.start < b.end and b.start < a.end)


def _pad(text: str, edit: Edit) -> str:
    """The replacement, with the newlines of the replaced span kept (every later line stays put)."""
    missing = text.count("\n", edit.start, edit.end) - edit.text.count("\n")
    return edit.text + "\n" * max(missing, 0)


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, list[Fix]]:
    """Apply the fixes that do not overlap an earlier one and do not add lines."""
    taken: list[Edit] = []
    kept: list[Fix] = []
    for fix in fixes:
        edits = sorted(fix.edits, key=lambda e: (e.start, e.end))
        pairs = [(a, b) for a in edits for b in taken] + list(zip(edits, edits[1:], strict=False))
        if any(_clash(a, b) for a, b in pairs) or any(e.text.count("\n") > text.count("\n", e.start, e.end)
                                                       for e in edits):
            continue
        kept.append(fix)
        taken += edits
    out = text
    for edit in sorted(taken, key=lambda e: (e.start, e.end), reverse=True):
        out = out[: edit.start] + _pad(text, edit) + out[edit.end :]
    return out, kept


def parses(text: str) -> bool:
    return parse(text)[0] is not None


def merge_nested(fixes: list[Fix]) -> list[Fix]:
    """One fix for fixes whose code overlaps (a call and its callee), so they read as one change."""
    out: list[Fix] = []
    for fix in sorted(fixes, key=lambda f: (f.unit[0], -f.unit[1])):  # the outer one first
        last = out[-1] if out else None
        edits = sorted([*(last.edits if last else ()), *fix.edits], key=lambda e: (e.start, e.end))
        if last is None or fix.unit[0] >= last.unit[1] or any(
                _clash(a, b) for a, b in zip(edits, edits[1:], strict=False)):
            out.append(fix)
            continue
        why = last.why if fix.why in last.why else f"{last.why}; {fix.why}"
        out[-1] = make_fix(last.rule, why, (last.unit[0], max(last.unit[1], fix.unit[1])), edits)
    return out


def _apply_parsing(text: str, fixes: list[Fix]) -> tuple[str, list[Fix]]:
    """Apply ``fixes`` to code that parses; keep only fixes whose result still parses."""
    out, kept = apply_fixes(text, fixes)
    if kept and not parses(out):
        out, kept = apply_fixes(text, [f for f in kept if parses(apply_fixes(text, [f])[0])])
        if not parses(out):
            return text, []
    return out, kept


def describe(text: str, fix: Fix) -> Change:
    start, end = fix.unit
    after = text[start:end]
    for edit in sorted(fix.edits, key=lambda e: (e.start, e.end), reverse=True):
        after = after[: edit.start - start] + edit.text + after[edit.end - start :]
    return Change(rule=fix.rule, line=Text(text).row(start), before=text[start:end], after=after, why=fix.why)


def _mark(old: str, new: str) -> str:
    """End each changed line with ``# [shipyard] was: <old line>``, where a comment can stand."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    marked = list(new_lines)
    for index, (before, after) in enumerate(zip(old_lines, new_lines, strict=True)):
        shown = before.strip()
        if before != after and after.rstrip()[-1:] != "\\" and all(c >= " " or c == "\t" for c in shown):
            marked[index] = f"{after}  {MARK}was: {shown}" if after.strip() else f"{after}{MARK}was: {shown}"
    text = "\n".join(marked)
    # a line that ends inside a string would take the comment into the string: then leave the marks out
    tree, plain = parse(text)[0], parse(new)[0]
    return text if tree is not None and plain is not None and ast.dump(tree) == ast.dump(plain) else new


# -- what a rule sees (the rules are in modernise_rules.py) ----------------------------------------------------


@dataclass
class Context:
    """What a rule sees: the cell (text and tree), the notebook's imports, the notebook-wide state."""

    text: Text
    tree: ast.Module
    nodes: list[ast.AST]  # the tree's nodes in source order (walked once per version of the cell)
    aliases: Aliases  # names as the notebook imports them (earlier cells included), before any rewrite
    state: Moderniser
    _parents: dict[ast.AST, ast.AST] | None = None

    def resolve(self, node: ast.AST) -> str:
        return self.aliases.resolve(node)

    def parent(self, node: ast.AST) -> ast.AST | None:
        if self._parents is None:
            self._parents = {c: n for n in ast.walk(self.tree) for c in ast.iter_child_nodes(n)}
        return self._parents.get(node)

    def replace(self, rule: str, why: str, node: ast.AST, text: str, unit: ast.AST | None = None) -> Fix:
        return make_fix(rule, why, self.text.span(unit or node), [Edit(*self.text.span(node), text)])

    def line(self, node: ast.AST) -> int | None:
        return getattr(node, "lineno", None)

    def remove_args(self, call: ast.Call, nodes: Iterable[ast.AST]) -> list[Edit]:
        """Delete arguments of ``call``, with their commas (edits that do not overlap)."""
        items: list[ast.AST] = sorted([*call.args, *call.keywords], key=self.text.start)
        gone = {id(n) for n in nodes}
        kept = [i for i, item in enumerate(items) if id(item) not in gone]
        if not kept:  # all of them, and a trailing comma
            end = self.text.end(items[-1])
            rest = self.text.text[end : self.text.end(call)]
            end += rest.index(",") + 1 if rest.lstrip().startswith(",") else 0
            return [Edit(self.text.start(items[0]), end, "")]
        edits, index = [], 0
        while index < len(items):
            if index in kept:
                index += 1
                continue
            last = index
            while last + 1 < len(items) and last + 1 not in kept:
                last += 1
            if last + 1 < len(items):  # a run of removed arguments before a kept one
                edits.append(Edit(self.text.start(items[index]), self.text.start(items[last + 1]), ""))
            else:  # the run ends the call: from the end of the kept argument before it
                edits.append(Edit(self.text.end(items[index - 1]), self.text.end(items[last]), ""))
            index = last + 1
        return edits

    def move_import(self, rule: str, why: str, node: ast.ImportFrom, alias: ast.alias, statement: str) -> Fix:
        """``from m import a, X, b`` -> ``from m import a, b; <statement>`` (the whole line when X is alone)."""
        if len(node.names) == 1:
            return self.replace(rule, why, node, statement)
        index = node.names.index(alias)
        if index + 1 < len(node.names):
            cut = Edit(self.text.start(alias), self.text.start(node.names[index + 1]), "")
        else:
            cut = Edit(self.text.end(node.names[index - 1]), self.text.end(alias), "")
        end = self.text.end(node)
        return make_fix(rule, why, self.text.span(node), [cut, Edit(end, end, f"; {statement}")])


# -- the notebook ---------------------------------------------------------------------------------------------


def removed_apis(nodes: list[ast.AST], aliases: Aliases) -> set[str]:
    """The removed APIs a cell uses, named as inspection's ``removed-api`` findings name them."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for full in names:
                found |= {api for api in REMOVED_MODULES if full == api or full.startswith(api + ".")}
                if isinstance(node, ast.ImportFrom):
                    found |= {f"{full}.{a.name}" for a in node.names if f"{full}.{a.name}" in REMOVED_NAMES}
        elif isinstance(node, ast.Attribute):
            qualified = aliases.resolve(node)
            module = next((a for a in REMOVED_MODULES if qualified == a or qualified.startswith(a + ".")), None)
            if qualified in REMOVED_NAMES:
                found.add(qualified)
            elif module is not None:
                found.add(module)
    return found


def _print_redirects(nodes: list[ast.AST]) -> bool:
    """A statement ``print >>f, x`` (or ``print >>f``)."""
    def redirect(node: ast.AST) -> bool:
        return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift) and isinstance(node.left, ast.Name)
                and node.left.id == "print")

    return any(isinstance(n, ast.Expr) and (redirect(n.value) or (isinstance(n.value, ast.Tuple) and n.value.elts
                                                                   and redirect(n.value.elts[0])))
               for n in nodes)


def _with_imports(aliases: Aliases, nodes: list[ast.AST]) -> Aliases:
    out = copy.deepcopy(aliases)
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.add(node)
    return out


def _bound(nodes: list[ast.AST]) -> set[str]:
    """Names the code assigns, defines or imports (so ``str`` there is not the builtin)."""
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            out.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return out


@dataclass
class Moderniser:
    """Rewrites the code cells of one notebook, in order: what earlier cells import and define stays known."""

    imported: Aliases = field(default_factory=Aliases)  # as the notebook imports
    module_imports: Aliases = field(default_factory=Aliases)  # as the module imports, after the rewrites
    bound: set[str] = field(default_factory=set)
    arima_models: set[str] = field(default_factory=set)
    arima_results: set[str] = field(default_factory=set)
    print_function: bool = False
    ported: int = 0  # cells that were not Python 3 and are now
    unported: int = 0  # cells that are still not Python 3

    def cell(self, source: str) -> CellResult:
        """The cell for the module, rewritten where a rule applies (``source`` itself when none does)."""
        try:
            return self._cell(source)
        except Exception:  # a rule that trips on odd code must not cost the whole module: the cell stays as written
            return CellResult(source=source)

    def _cell(self, source: str) -> CellResult:
        from .modernise_py2 import python2_fixes
        from .modernise_rules import RULES

        text = source.replace("\r\n", "\n").replace("\r", "\n")
        original = text
        tree, _ = parse(text)
        changes: list[Change] = []
        ported = False
        if tree is None:
            fixed, fixes = python2_fixes(text, print_function=self.print_function)
            tree, _ = parse(fixed)
            if tree is None:
                self.unported += 1
                return CellResult(source=source)
            changes += [describe(text, f) for f in fixes]
            text, ported = fixed, True
            self.ported += 1
        nodes = list(walk_ordered(tree))
        if not ported and "print" not in self.bound and not self.print_function and _print_redirects(nodes):
            # `print >>f, x` parses as Python 3 (a tuple) and fails when it runs: rewrite those statements
            fixed, fixes = python2_fixes(text, redirects_only=True)
            if fixes:
                changes += [describe(text, f) for f in fixes]
                text, tree = fixed, parse(fixed)[0] or tree
                nodes = list(walk_ordered(tree))
        aliases = _with_imports(self.imported, nodes)
        self.bound |= _bound(nodes)
        before = removed_apis(nodes, aliases)
        by_hand: list[ByHand] = []
        for current_rule in RULES:  # one at a time, each on the text the rules before it left
            fixes: list[Fix] = []
            for item in current_rule.run(Context(text=Text(text), tree=tree, nodes=nodes, aliases=aliases, state=self)):
                (by_hand if isinstance(item, ByHand) else fixes).append(item)  # type: ignore[arg-type]
            new, kept = _apply_parsing(text, merge_nested(fixes)) if fixes else (text, [])
            if kept:
                changes += [describe(text, f) for f in kept]
                text = new
                tree = parse(text)[0] or tree  # it parses: _apply_parsing checked
                nodes = list(walk_ordered(tree))
        module = _with_imports(self.module_imports, nodes)
        settled = tuple(sorted(before - removed_apis(nodes, module)))  # also by a rewrite in an earlier cell
        self.imported, self.module_imports = aliases, module
        if text.count("\n") != original.count("\n"):  # never happens (the edits keep lines): kept for safety
            return CellResult(source=source)
        if not changes:
            return CellResult(source=source, by_hand=tuple(by_hand), settled=settled)
        return CellResult(source=_mark(original, text), changes=tuple(changes), by_hand=tuple(by_hand),
                          settled=settled, ported=ported)

    def summary(self, path: str) -> list[Finding]:
        """A ``python2-syntax`` note when every cell that was not Python 3 now is (the error is then settled)."""
        if not self.ported or self.unported:
            return []
        return [Finding(code="python2-syntax", severity=Severity.INFO, evidence=Evidence(path=path),
                        message=f"{path}: the {self.ported} cell(s) that were not Python 3 were rewritten to Python 3 "
                                "in the module (see \"Modernised in the module\" in ADOPTION.md); the notebook is "
                                "unchanged")]


def _settles(f: Finding) -> tuple[str, str, int | None, str] | None:
    """What a finding is about, for matching an inspection finding with the note that settles it."""
    if f.evidence is None:
        return None
    path = f.evidence.path
    if f.code == "removed-api":
        rest = f.message[len(path):] if f.message.startswith(path) else f.message
        api = rest.split(" uses ", 1)[1].split(": ", 1)[0] if " uses " in rest else ""
        return ("removed-api", path, f.evidence.cell, api)
    if f.code in ("python2-syntax", "cell-not-python3"):
        return ("python2-syntax", path, None, "")
    return None


def drop_settled(findings: Iterable[Finding]) -> list[Finding]:
    """Drop what the module no longer needs fixed by hand: a ``removed-api`` warning when the same API in the
    same cell was rewritten, the ``python2-syntax`` / ``cell-not-python3`` errors of the training notebook when
    all its cells are Python 3 in the module. The rewrite's note (severity info) stays."""
    findings = list(findings)
    settled = {_settles(f) for f in findings if f.severity is Severity.INFO} - {None}
    return [f for f in findings if f.severity is Severity.INFO or _settles(f) not in settled]
