"""Python 2 syntax -> Python 3, for :mod:`shipyard.modernise`: read with :mod:`tokenize`, since it does not parse.

Purely syntactic forms only, each with one meaning in Python 3 (rule ids in brackets):

* ``print "a", b`` -> ``print("a", b)``; a trailing comma -> ``end=" "``; ``print >>f, x`` -> ``print(x, file=f)``;
  a bare ``print`` -> ``print()`` [python2-print]. Not after ``from __future__ import print_function``, and not
  ``print(x)``, which already is a call;
* ``exec code in ns`` -> ``exec(code, ns)`` [python2-exec];
* ``except E, e:`` -> ``except E as e:`` [python2-except];
* ``raise E, "msg"`` -> ``raise E("msg")`` (not the three-argument form, nor a parenthesised value) [python2-raise];
* backticks -> ``repr()`` [python2-backticks], ``<>`` -> ``!=`` [python2-not-equal], ``0777`` -> ``0o777``
  [python2-octal], ``10L`` -> ``10`` [python2-long], ``ur"..."`` -> ``r"..."`` [python2-ur-string].

The fixes are kept only when the whole cell then parses as Python 3.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from collections.abc import Iterator
from tokenize import DEDENT, ENDMARKER, ERRORTOKEN, INDENT, NAME, NEWLINE, NUMBER, OP, STRING, TokenInfo

from .modernise import Edit, Fix, Text, apply_fixes, make_fix, merge_nested, parses

_SKIP = {tokenize.COMMENT, tokenize.NL}
_COMPOUND = {"if", "elif", "else", "for", "while", "try", "except", "finally", "with", "def", "class"}
_OPENERS, _CLOSERS = "([{", ")]}"
_EXPRESSION_START = {"(", "[", "{", "-", "+", "~", "`", ">>"}  # operators that can follow ``print``


def _tokens(text: str) -> list[TokenInfo] | None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return [t for t in tokens if t.type not in _SKIP and not (t.type == ERRORTOKEN and not t.string.strip())]


def _statements(tokens: list[TokenInfo]) -> Iterator[list[TokenInfo]]:
    """Simple statements (and compound headers, ending in their ``:``), without their terminator."""
    current: list[TokenInfo] = []
    depth = 0
    for tok in tokens:
        if tok.type in (NEWLINE, ENDMARKER, INDENT, DEDENT) or (tok.type == OP and tok.string == ";" and not depth):
            if current:
                yield current
            current, depth = [], 0
            continue
        current.append(tok)
        if tok.type == OP and tok.string in _OPENERS:
            depth += 1
        elif tok.type == OP and tok.string in _CLOSERS:
            depth = max(0, depth - 1)
        elif (tok.type == OP and tok.string == ":" and not depth and current[0].type == NAME
              and current[0].string in _COMPOUND):
            yield current
            current = []
    if current:
        yield current


def _top_level(tokens: list[TokenInfo], string: str) -> list[int]:
    """Indexes of ``string`` tokens outside brackets."""
    out, depth = [], 0
    for i, tok in enumerate(tokens):
        if tok.type == OP and tok.string in _OPENERS:
            depth += 1
        elif tok.type == OP and tok.string in _CLOSERS:
            depth -= 1
        elif tok.string == string and not depth and tok.type in (OP, NAME):
            out.append(i)
    return out


def _is_call(rest: list[TokenInfo]) -> bool:
    """``rest`` is one parenthesised group: ``print(x)`` is already Python 3."""
    if not rest or rest[0].string != "(":
        return False
    depth = 0
    for i, tok in enumerate(rest):
        if tok.type == OP and tok.string in _OPENERS:
            depth += 1
        elif tok.type == OP and tok.string in _CLOSERS:
            depth -= 1
            if not depth:
                return i == len(rest) - 1
    return False


class _Fixer:
    def __init__(self, text: str) -> None:
        self.src = Text(text)

    def at(self, pos: tuple[int, int]) -> int:
        return self.src.at(*pos)

    def gap(self, a: TokenInfo, b: TokenInfo) -> tuple[int, int] | None:
        """The text between two tokens, when it stays on one line."""
        start, end = self.at(a.end), self.at(b.start)
        return None if "\n" in self.src.text[start:end] else (start, end)

    def fix(self, rule: str, why: str, stmt: list[TokenInfo], edits: list[Edit]) -> Fix:
        return make_fix(rule, why, (self.at(stmt[0].start), self.at(stmt[-1].end)), edits)

    def print_(self, stmt: list[TokenInfo]) -> Iterator[Fix]:
        head, rest = stmt[0], stmt[1:]
        why = "Python 2 print statement"
        after_print = self.at(head.end)
        if not rest:
            yield self.fix("python2-print", why, stmt, [Edit(after_print, after_print, "()")])
            return
        first = rest[0]
        if _is_call(rest) or (first.type == OP and first.string not in _EXPRESSION_START) or (
                first.type == ERRORTOKEN and first.string != "`"):
            return
        target = None
        items = rest
        if first.string == ">>":
            commas = _top_level(rest[1:], ",")
            cut = commas[0] + 1 if commas else len(rest)
            if cut == 1:
                return
            target = self.src.text[self.at(rest[1].start) : self.at(rest[cut - 1].end)]
            items = rest[cut + 1 :]
            if "\n" in target:
                return
        trailing = bool(items) and items[-1].string == "," and items[-1].type == OP
        body = items[:-1] if trailing else items
        keywords = (['end=" "'] if trailing or (target is not None and stmt[-1].string == ",") else [])
        keywords += [f"file={target}"] if target is not None else []
        if not body:
            edits = [Edit(after_print, self.at(stmt[-1].end), "(" + ", ".join(keywords) + ")")]
            if "\n" in self.src.text[edits[0].start : edits[0].end]:
                return
        else:
            gap = self.gap(head, body[0])
            if gap is None and target is not None:
                return
            edits = [Edit(*gap, "(") if gap else Edit(after_print, after_print, "(")]
            tail = "".join(", " + k for k in keywords) + ")"
            if trailing:
                edits.append(Edit(self.at(items[-1].start), self.at(items[-1].end), tail))
            else:
                edits.append(Edit(self.at(body[-1].end), self.at(body[-1].end), tail))
        yield self.fix("python2-print", why, stmt, edits)

    def exec_(self, stmt: list[TokenInfo]) -> Iterator[Fix]:
        rest = stmt[1:]
        if not rest or _is_call(rest) or (rest[0].type == OP and rest[0].string not in _OPENERS):
            return
        found = _top_level(rest, "in")
        code, namespaces = (rest[: found[0]], rest[found[0] + 1 :]) if found else (rest, [])
        gap = self.gap(stmt[0], rest[0])
        if not code or (found and not namespaces) or gap is None:
            return
        edits = [Edit(*gap, "(")]
        if namespaces:
            between = self.gap(code[-1], namespaces[0])
            if between is None:
                return
            edits.append(Edit(*between, ", "))
        end = self.at(rest[-1].end)
        edits.append(Edit(end, end, ")"))
        yield self.fix("python2-exec", "Python 2 exec statement", stmt, edits)

    def except_(self, stmt: list[TokenInfo]) -> Iterator[Fix]:
        body = stmt[1:-1]
        if stmt[-1].string != ":":
            return
        commas = _top_level(body, ",")
        if len(commas) != 1 or commas[0] == 0:
            return
        name = body[commas[0] + 1 :]
        if len(name) == 1 and name[0].type == NAME and not keyword.iskeyword(name[0].string):
            edit = Edit(self.at(body[commas[0]].start), self.at(name[0].start), " as ")
            yield self.fix("python2-except", "Python 2 `except E, e`", stmt, [edit])

    def raise_(self, stmt: list[TokenInfo]) -> Iterator[Fix]:
        body = stmt[1:]
        commas = _top_level(body, ",")
        if len(commas) != 1:
            return
        exc, value = body[: commas[0]], body[commas[0] + 1 :]
        dotted = all((t.type == NAME) if i % 2 == 0 else t.string == "." for i, t in enumerate(exc))
        if not exc or not value or not dotted or len(exc) % 2 == 0 or value[0].string == "(":
            return
        gap = self.gap(exc[-1], value[0])
        if gap is None:
            return
        end = self.at(value[-1].end)
        yield self.fix("python2-raise", "Python 2 `raise E, value`", stmt, [Edit(*gap, "("), Edit(end, end, ")")])

    def tokens(self, tokens: list[TokenInfo]) -> Iterator[Fix]:
        backticks: list[TokenInfo] = []
        for i, tok in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            adjacent = nxt is not None and nxt.start == tok.end
            if tok.string == "`" and tok.type in (OP, ERRORTOKEN):
                backticks.append(tok)
            elif tok.type == NEWLINE:
                yield from self._backticks(backticks)
                backticks = []
            if tok.type == OP and tok.string == "<>":
                yield self._one("python2-not-equal", "Python 2 `<>` is `!=`", tok, tok, "!=")
            elif tok.type == OP and tok.string == "<" and adjacent and nxt and nxt.string == ">":
                yield self._one("python2-not-equal", "Python 2 `<>` is `!=`", tok, nxt, "!=")
            elif tok.type == NUMBER and _octal(tok.string):
                yield self._one("python2-octal", "Python 2 octal literal", tok, tok, "0o" + tok.string.lstrip("0"))
            elif tok.type == NUMBER and tok.string == "0" and adjacent and nxt and nxt.type == NUMBER and _octal(
                    "0" + nxt.string):
                yield self._one("python2-octal", "Python 2 octal literal", tok, nxt, "0o" + nxt.string.lstrip("0"))
            elif tok.type == NAME and tok.string in ("L", "l") and i and tokens[i - 1].type == NUMBER and (
                    tokens[i - 1].end == tok.start):
                yield self._one("python2-long", "Python 2 long literal", tok, tok, "", unit=tokens[i - 1])
            elif tok.type == NAME and tok.string.lower() == "ur" and adjacent and nxt and nxt.type == STRING:
                yield self._one("python2-ur-string", "Python 2 ur'' string", tok, tok, "r", unit=nxt)
        yield from self._backticks(backticks)

    def _one(self, rule: str, why: str, first: TokenInfo, last: TokenInfo, text: str,
             unit: TokenInfo | None = None) -> Fix:
        """Replace the tokens ``first`` to ``last`` with ``text``; ``unit`` is a neighbour shown with them."""
        start, end = self.at(first.start), self.at(last.end)
        shown = (start, end) if unit is None else (min(start, self.at(unit.start)), max(end, self.at(unit.end)))
        return make_fix(rule, why, shown, [Edit(start, end, text)])

    def _backticks(self, ticks: list[TokenInfo]) -> Iterator[Fix]:
        if len(ticks) % 2:  # unbalanced on the line: not what it looks like
            return
        for opening, closing in zip(ticks[::2], ticks[1::2], strict=True):
            yield make_fix("python2-backticks", "Python 2 backticks are repr()",
                           (self.at(opening.start), self.at(closing.end)),
                           [Edit(self.at(opening.start), self.at(opening.end), "repr("),
                            Edit(self.at(closing.start), self.at(closing.end), ")")])


def _octal(number: str) -> bool:
    return len(number) > 1 and number[0] == "0" and number.isdigit() and set(number) <= set("01234567") and bool(
        number.strip("0"))


def python2_fixes(text: str, *, print_function: bool = False, redirects_only: bool = False) -> tuple[str, list[Fix]]:
    """``text`` (a cell that does not parse) with its Python 2 syntax rewritten, and the fixes made;
    ``text`` itself and no fixes when the result would not parse either.

    ``redirects_only``: only the ``print >>f, x`` statements, which parse as Python 3 (and fail when run).
    """
    tokens = _tokens(text)
    if tokens is None:
        return text, []
    fixer = _Fixer(text)
    fixes: list[Fix] = []
    for stmt in _statements(tokens):
        word = stmt[0].string if stmt[0].type == NAME else ""
        if redirects_only:
            if word == "print" and len(stmt) > 1 and stmt[1].string == ">>":
                fixes += fixer.print_(stmt)
        elif word == "print" and not print_function:
            fixes += fixer.print_(stmt)
        elif word == "exec":
            fixes += fixer.exec_(stmt)
        elif word == "except":
            fixes += fixer.except_(stmt)
        elif word == "raise":
            fixes += fixer.raise_(stmt)
    fixes += [] if redirects_only else fixer.tokens(tokens)
    new, kept = apply_fixes(text, merge_nested(fixes))
    if not kept or not parses(new):
        return text, []
    return new, kept
