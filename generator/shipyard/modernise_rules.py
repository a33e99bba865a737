"""The registered rules of :mod:`shipyard.modernise`: one small rule per rewrite, run in this order.

A rule reads one cell (:class:`~shipyard.modernise.Context`: its text, tree, the notebook's imports) and
yields :class:`~shipyard.modernise.Fix` es (edits, with why) and :class:`~shipyard.modernise.ByHand` notes
for what it recognises but cannot rewrite safely. It never edits the text itself, and needs not check that
its result parses: the runner does both. Register a new rule with ``@rule("rule-id")``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from .inspect._astutil import dotted
from .modernise import ByHand, Context, Edit, Fix, make_fix

Item = Fix | ByHand


@dataclass(frozen=True)
class Rule:
    id: str
    run: Callable[[Context], Iterable[Item]]


RULES: list[Rule] = []


def rule(rule_id: str) -> Callable[[Callable[[Context], Iterable[Item]]], Callable[[Context], Iterable[Item]]]:
    def register(run: Callable[[Context], Iterable[Item]]) -> Callable[[Context], Iterable[Item]]:
        RULES.append(Rule(id=rule_id, run=run))
        return run

    return register


def _calls(ctx: Context) -> Iterator[tuple[ast.Call, str]]:
    for node in ctx.nodes:
        if isinstance(node, ast.Call):
            yield node, ctx.resolve(node.func)


_PY3_FUTURES = {"print_function", "division", "absolute_import", "unicode_literals", "generators", "nested_scopes",
                "with_statement", "generator_stop"}


@rule("future-imports")
def _future_imports(ctx: Context) -> Iterator[Item]:
    """``from __future__ import print_function, division`` -> ``pass``: Python 3 does these anyway, and in the
    module (after its prologue) such an import is a SyntaxError."""
    for node in ctx.nodes:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            names = {a.name for a in node.names}
            ctx.state.print_function |= "print_function" in names
            if names <= _PY3_FUTURES:
                yield ctx.replace("future-imports", "Python 3 behaves so anyway; in the module the import would not "
                                  "be the first statement, a SyntaxError", node, "pass")
            else:
                yield ByHand(rule="future-imports", line=ctx.line(node),
                             message=f"`{ctx.text.seg(node)}` must be the first statement of a file, and in the "
                                     "module it is not: move it to the top of the module, or delete it")


# statsmodels: the ARIMA of statsmodels.tsa.arima_model was removed in 0.13; statsmodels.tsa.arima.model.ARIMA
# (also sm.tsa.ARIMA today) takes exog second and has no fit(disp=...).
_OLD_ARIMA = {"statsmodels.tsa.arima_model.ARIMA", "statsmodels.api.tsa.arima_model.ARIMA"}
_NEW_NAME_ARIMA = {"statsmodels.api.tsa.ARIMA", "statsmodels.tsa.api.ARIMA"}
_ARMA = {"statsmodels.tsa.arima_model.ARMA", "statsmodels.api.tsa.arima_model.ARMA", "statsmodels.api.tsa.ARMA",
         "statsmodels.tsa.api.ARMA"}
_OLD_POSITIONAL = ("order", "exog", "dates", "freq")  # the old ARIMA's parameters after endog
_FIT_BY_HAND = {
    "trend": "pass trend= to ARIMA(...) instead ('nc' is now 'n')",
    "method": "the current methods are 'statespace' (the default), 'innovations_mle', 'hannan_rissanen', 'burg', "
              "'innovations', 'yule_walker': drop method= to use the default",
    "solver": "pass optimizer options as method_kwargs={...}, or drop them",
    "maxiter": "pass optimizer options as method_kwargs={'maxiter': ...}, or drop it",
    "transparams": "drop it (the current ARIMA enforces stationarity in the constructor)",
    "full_output": "drop it",
    "callback": "drop it",
}


@rule("statsmodels-arima")
def _arima(ctx: Context) -> Iterator[Item]:
    """Calls of the old ARIMA: ``ARIMA(y, (p, d, q))`` -> ``ARIMA(y, order=(p, d, q))``; ``.fit(disp=0)`` -> ``.fit()``;
    ``.predict(..., typ='levels')`` -> ``.predict(...)``. What has no safe rewrite is reported."""
    state = ctx.state
    arima = _OLD_ARIMA | _NEW_NAME_ARIMA

    def is_model(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in state.arima_models) or (
            isinstance(node, ast.Call) and ctx.resolve(node.func) in arima)

    def method_of(node: ast.AST, name: str, receiver: Callable[[ast.AST], bool]) -> bool:
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
                and receiver(node.func.value))

    def is_results(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in state.arima_results) or method_of(node, "fit", is_model)

    for node in ctx.nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if is_model(node.value):
                state.arima_models.add(node.targets[0].id)
            elif is_results(node.value):
                state.arima_results.add(node.targets[0].id)
    forecast_by_hand = ("the current ARIMA's forecast() returns the forecasts only, not (forecast, stderr, conf_int): "
                        "use res.get_forecast(steps) and its .predicted_mean, .se_mean and .conf_int()")
    for node in ctx.nodes:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple | ast.List) and method_of(
                node.value, "forecast", is_results):
            yield ByHand(rule="statsmodels-arima", line=ctx.line(node), message=forecast_by_hand)
        elif isinstance(node, ast.Subscript) and method_of(node.value, "forecast", is_results):
            yield ByHand(rule="statsmodels-arima", line=ctx.line(node), message=forecast_by_hand)
        if not isinstance(node, ast.Call):
            continue
        name = ctx.resolve(node.func)
        if name in _ARMA:
            yield ByHand(rule="statsmodels-arima", line=ctx.line(node),
                         message=f"`{code_of(ctx, node.func)}` (ARMA) was removed in statsmodels 0.13: use "
                                 "ARIMA(endog, order=(p, 0, q)) from statsmodels.tsa.arima.model")
        elif name in arima:
            yield from _arima_call(ctx, node, old=name in _OLD_ARIMA)
        elif method_of(node, "fit", is_model):
            for kw in node.keywords:
                if kw.arg == "disp":
                    yield make_fix("statsmodels-arima", "the current ARIMA's fit() has no disp argument",
                                   ctx.text.span(node), ctx.remove_args(node, [kw]))
                elif kw.arg in _FIT_BY_HAND:
                    yield ByHand(rule="statsmodels-arima", line=ctx.line(kw),
                                 message=f"the current ARIMA's fit() has no {kw.arg}=: {_FIT_BY_HAND[kw.arg]}")
        elif method_of(node, "predict", is_results):
            for kw in node.keywords:
                if kw.arg != "typ":
                    continue
                if isinstance(kw.value, ast.Constant) and kw.value.value == "levels":
                    yield make_fix("statsmodels-arima", "the current ARIMA predicts levels and has no typ argument",
                                   ctx.text.span(node), ctx.remove_args(node, [kw]))
                else:
                    yield ByHand(rule="statsmodels-arima", line=ctx.line(kw),
                                 message="the current ARIMA's predict() has no typ= and always predicts levels: "
                                         "drop typ= (take .diff() of the levels for typ='linear')")


def code_of(ctx: Context, node: ast.AST) -> str:
    return " ".join(ctx.text.seg(node).split())


def _arima_call(ctx: Context, node: ast.Call, *, old: bool) -> Iterator[Item]:
    positional = node.args[1:]
    keywords = {k.arg for k in node.keywords}
    if not positional:
        return
    if any(isinstance(a, ast.Starred) for a in node.args) or None in keywords or len(positional) > 4 or any(
            name in keywords for name in _OLD_POSITIONAL[: len(positional)]):
        yield ByHand(rule="statsmodels-arima", line=ctx.line(node),
                     message=f"`{code_of(ctx, node)}`: the current ARIMA takes (endog, exog, order=...), the old one "
                             "took (endog, order, exog): pass order=(p, d, q) and exog= by name")
        return
    if not old and not isinstance(positional[0], ast.Tuple | ast.List):
        second = code_of(ctx, positional[0])
        yield ByHand(rule="statsmodels-arima", line=ctx.line(node),
                     message=f"`{code_of(ctx, node)}`: the second argument of the current ARIMA is exog; if "
                             f"`{second}` is the (p, d, q) order, write order={second}")
        return
    edits = [Edit(ctx.text.start(arg), ctx.text.start(arg), f"{name}=")
             for name, arg in zip(_OLD_POSITIONAL, positional, strict=False)]
    yield make_fix("statsmodels-arima", "the current statsmodels ARIMA takes exog second, so the order goes by name",
                   ctx.text.span(node), edits)


_IMPUTER = "sklearn.preprocessing.Imputer"
_IMPUTER_WHY = "sklearn.preprocessing.Imputer was removed in scikit-learn 0.22"


def _imputer_problem(node: ast.Call) -> str:
    if node.args or any(k.arg is None for k in node.keywords):
        return "pass its arguments by name (SimpleImputer takes keywords only)"
    for kw in node.keywords:
        if kw.arg == "axis" and not (isinstance(kw.value, ast.Constant) and kw.value.value == 0):
            if isinstance(kw.value, ast.Constant) and kw.value.value == 1:
                return ("Imputer(axis=1) filled along rows, and SimpleImputer only fills columns: drop axis=1 and "
                        "transpose the data (imp.fit_transform(X.T).T)")
            return "SimpleImputer has no axis: drop axis= if it is 0; if it is 1, transpose the data instead"
    return ""


@rule("sklearn-imputer")
def _imputer(ctx: Context) -> Iterator[Item]:
    """``Imputer`` -> ``sklearn.impute.SimpleImputer``: the import, ``preprocessing.Imputer``, and each call
    (``axis=0`` and ``verbose=`` dropped, ``missing_values='NaN'`` -> ``np.nan``)."""
    numpy = next((name for name, full in ctx.aliases.names.items() if full == "numpy"), None)
    nan = f"{numpy}.nan" if numpy else 'float("nan")'
    left: set[int] = set()  # callees of calls left as written
    for node, name in _calls(ctx):
        if name != _IMPUTER:
            continue
        problem = _imputer_problem(node)
        if problem:
            left.add(id(node.func))
            yield ByHand(rule="sklearn-imputer", line=ctx.line(node),
                         message=f"`{code_of(ctx, node)}` was left as written: {problem}")
            continue
        edits = ctx.remove_args(node, [kw for kw in node.keywords if kw.arg in ("axis", "verbose")])
        for kw in node.keywords:
            if (kw.arg == "missing_values" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
                  and kw.value.value.lower() == "nan"):
                edits.append(Edit(*ctx.text.span(kw.value), nan))
        if edits:
            yield make_fix("sklearn-imputer", "SimpleImputer has no axis or verbose, and takes NaN as a number",
                           ctx.text.span(node), edits)
    statements: dict[int, tuple[ast.stmt, list[ast.Attribute]]] = {}
    for node in ctx.nodes:
        if isinstance(node, ast.ImportFrom) and node.module == "sklearn.preprocessing" and not node.level:
            for alias in node.names:
                if alias.name == "Imputer":
                    new = "from sklearn.impute import SimpleImputer as " + (alias.asname or "Imputer")
                    yield ctx.move_import("sklearn-imputer", _IMPUTER_WHY, node, alias, new)
        elif isinstance(node, ast.Attribute) and ctx.resolve(node) == _IMPUTER and id(node) not in left:
            statement = _statement_of(ctx, node)
            if statement is not None:
                statements.setdefault(id(statement), (statement, []))[1].append(node)
    for statement, uses in statements.values():
        start = ctx.text.start(statement)
        edits = [Edit(start, start, "from sklearn.impute import SimpleImputer; ")]
        edits += [Edit(*ctx.text.span(use), "SimpleImputer") for use in uses]
        yield make_fix("sklearn-imputer", _IMPUTER_WHY, ctx.text.span(statement), edits)


def _statement_of(ctx: Context, node: ast.AST) -> ast.stmt | None:
    """The simple statement holding ``node`` (None inside a compound statement's header)."""
    current: ast.AST | None = node
    while current is not None and not isinstance(current, ast.stmt):
        current = ctx.parent(current)
    simple = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Delete, ast.Assert)
    return current if isinstance(current, simple) else None


# scikit-learn's cross-validation iterators changed signature when they moved to sklearn.model_selection.
_CV_BY_HAND = {
    "KFold": "KFold(n, n_folds=k) is now KFold(n_splits=k), and it no longer iterates by itself: loop over kf.split(X)",
    "StratifiedKFold": "StratifiedKFold(y, n_folds=k) is now StratifiedKFold(n_splits=k): loop over skf.split(X, y)",
    "ShuffleSplit": "ShuffleSplit(n, n_iter=k, ...) is now ShuffleSplit(n_splits=k, ...): loop over ss.split(X)",
    "StratifiedShuffleSplit": "StratifiedShuffleSplit(y, n_iter=k, ...) is now StratifiedShuffleSplit(n_splits=k, ...): "
                              "loop over sss.split(X, y)",
    "LeaveOneOut": "LeaveOneOut(n) is now LeaveOneOut(): loop over loo.split(X)",
    "LeavePOut": "LeavePOut(n, p) is now LeavePOut(p): loop over lpo.split(X)",
    "LabelKFold": "LabelKFold is GroupKFold(n_splits=k) in sklearn.model_selection: loop over gkf.split(X, y, groups)",
    "LeaveOneLabelOut": "LeaveOneLabelOut is LeaveOneGroupOut() in sklearn.model_selection: loop over "
                        "logo.split(X, y, groups)",
    "LeavePLabelOut": "LeavePLabelOut is LeavePGroupsOut(n_groups=p) in sklearn.model_selection",
    "LabelShuffleSplit": "LabelShuffleSplit is GroupShuffleSplit(n_splits=k, ...) in sklearn.model_selection",
    "Bootstrap": "Bootstrap is gone: use sklearn.utils.resample or ShuffleSplit",
}
_SEARCH_BY_HAND = {"iid": "iid= was removed in scikit-learn 0.24: drop it",
                   "fit_params": "fit_params= moved to fit(): pass them as search.fit(X, y, **params)"}


@rule("sklearn-cv-signatures")
def _cv_signatures(ctx: Context) -> Iterator[Item]:
    """Reports (never rewrites) the uses of sklearn.cross_validation / grid_search whose signature changed."""
    for node, name in _calls(ctx):
        module, _, leaf = name.rpartition(".")
        if module == "sklearn.cross_validation" and leaf in _CV_BY_HAND:
            yield ByHand(rule="sklearn-cv-signatures", line=ctx.line(node),
                         message=f"`{code_of(ctx, node)}` was left as written: {_CV_BY_HAND[leaf]}")
        elif module == "sklearn.grid_search":
            yield from (ByHand(rule="sklearn-cv-signatures", line=ctx.line(kw), message=_SEARCH_BY_HAND[kw.arg])
                        for kw in node.keywords if kw.arg in _SEARCH_BY_HAND)
    for node in ctx.nodes:
        if isinstance(node, ast.Attribute) and node.attr == "grid_scores_":
            yield ByHand(rule="sklearn-cv-signatures", line=ctx.line(node),
                         message="grid_scores_ was removed in scikit-learn 0.20: use cv_results_ "
                                 "(pd.DataFrame(search.cv_results_))")


# Removed modules with a drop-in replacement: old -> (new, rule, why). Attribute chains (sm.tsa.arima_model)
# are resolved through the imports; statsmodels.api.tsa is statsmodels.tsa.api.
_RENAMES = {
    "sklearn.cross_validation": ("sklearn.model_selection", "sklearn-model-selection",
                                 "sklearn.cross_validation was removed in scikit-learn 0.20"),
    "sklearn.grid_search": ("sklearn.model_selection", "sklearn-model-selection",
                            "sklearn.grid_search was removed in scikit-learn 0.20"),
    "sklearn.learning_curve": ("sklearn.model_selection", "sklearn-model-selection",
                               "sklearn.learning_curve was removed in scikit-learn 0.20"),
    "sklearn.externals.joblib": ("joblib", "sklearn-joblib", "sklearn.externals.joblib was removed in scikit-learn 0.23"),
    "pandas.tools.plotting": ("pandas.plotting", "pandas-plotting", "pandas.tools was removed in pandas 0.25"),
    "statsmodels.tsa.arima_model": ("statsmodels.tsa.arima.model", "statsmodels-arima-import",
                                    "statsmodels.tsa.arima_model was removed in statsmodels 0.13"),
    "statsmodels.api.tsa.arima_model": ("statsmodels.api.tsa.arima", "statsmodels-arima-import",
                                        "statsmodels.tsa.arima_model was removed in statsmodels 0.13"),
    # renamed distributions whose old name no longer installs
    "fbprophet": ("prophet", "package-renamed", "fbprophet was renamed prophet (1.0, 2021); the old one no longer builds"),
    "pyramid.arima": ("pmdarima.arima", "package-renamed", "pyramid-arima was renamed pmdarima (2019)"),
}
_NOT_MOVED = {"sklearn.cross_validation": {"LabelKFold", "LeaveOneLabelOut", "LeavePLabelOut", "LabelShuffleSplit",
                                           "Bootstrap"},
              "statsmodels.tsa.arima_model": {"ARMA", "ARMAResults"}}
_NOT_MOVED_ADVICE = {"ARMA": "use ARIMA(endog, order=(p, 0, q)) from statsmodels.tsa.arima.model instead of ARMA"}


def _renames(rule_id: str, ctx: Context) -> Iterator[Item]:
    """Removed modules -> their replacement, in imports and in attribute chains (``sklearn.cross_validation.X``)."""
    table = {old: (new, why) for old, (new, rid, why) in _RENAMES.items() if rid == rule_id}
    for node in ctx.nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                old = next((o for o in table if alias.name == o or alias.name.startswith(o + ".")), None)
                if old is None:
                    continue
                new = table[old][0] + alias.name[len(old):]
                if not ctx.text.seg(alias).startswith(alias.name):
                    continue
                start = ctx.text.start(alias)
                if alias.asname or new.split(".")[0] == old.split(".")[0]:
                    yield make_fix(rule_id, table[old][1], ctx.text.span(node),
                                   [Edit(start, start + len(alias.name), new)])
                elif alias.name == old and "." not in old:  # `import fbprophet`: the code says fbprophet.X
                    yield make_fix(rule_id, table[old][1], ctx.text.span(node),
                                   [Edit(start, start + len(alias.name), f"{new} as {old}")])
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield from _rename_from(ctx, rule_id, table, node)
        elif isinstance(node, ast.Attribute) and ctx.resolve(node) in table:
            written, old = dotted(node), ctx.resolve(node)
            head = written.split(".")[0]
            bound = ctx.aliases.names.get(head, head)
            new, why = table[old]
            if written and old.startswith(bound + ".") and (new == bound or new.startswith(bound + ".")):
                yield ctx.replace(rule_id, why, node, head + new[len(bound):])


def _rename_from(ctx: Context, rule_id: str, table: dict[str, tuple[str, str]], node: ast.ImportFrom) -> Iterator[Item]:
    module = node.module or ""
    old = next((o for o in table if module == o or module.startswith(o + ".")), None)
    if old is not None:
        missing = sorted({a.name for a in node.names} & _NOT_MOVED.get(old, set()))
        if missing:
            advice = [_NOT_MOVED_ADVICE.get(m) or _CV_BY_HAND.get(m, "") for m in missing]
            yield ByHand(rule=rule_id, line=ctx.line(node),
                         message=f"`{code_of(ctx, node)}` was left as written: {', '.join(missing)} is not in "
                                 f"{table[old][0]}; " + "; ".join(a for a in advice if a))
            return
        seg = ctx.text.seg(node)
        rest = seg[4:].lstrip(" \t")
        if seg.startswith("from") and rest.startswith(module):
            start = ctx.text.start(node) + len(seg) - len(rest)
            yield make_fix(rule_id, table[old][1], ctx.text.span(node),
                           [Edit(start, start + len(module), table[old][0] + module[len(old):])])
        return
    for alias in node.names:
        full = f"{module}.{alias.name}"
        if full not in table:
            continue
        new, why = table[full]
        parent, _, leaf = new.rpartition(".")
        bound = alias.asname or alias.name
        as_bound = f" as {bound}" if bound != leaf else ""
        if parent == module:
            yield ctx.replace(rule_id, why, alias, leaf + as_bound, unit=node)
        else:
            statement = (f"from {parent} import {leaf}" if parent else f"import {leaf}") + as_bound
            yield ctx.move_import(rule_id, why, node, alias, statement)


for _rule_id in dict.fromkeys(rid for _, rid, _ in _RENAMES.values()):
    RULES.append(Rule(id=_rule_id, run=partial(_renames, _rule_id)))

_NUMPY_BUILTINS = {"float": "float", "int": "int", "bool": "bool", "object": "object", "str": "str",
                   "complex": "complex", "long": "int", "unicode": "str"}
_NUMPY2 = {"NaN": "nan", "NAN": "nan", "Inf": "inf", "Infinity": "inf", "PINF": "inf", "infty": "inf",
           "float_": "float64", "complex_": "complex128", "unicode_": "str_", "string_": "bytes_", "product": "prod",
           "cumproduct": "cumprod", "alltrue": "all", "sometrue": "any", "round_": "round"}


@rule("numpy-aliases")
def _numpy(ctx: Context) -> Iterator[Item]:
    """``np.float`` -> ``float`` (and int, bool, object, str, complex, long, unicode) where ``np`` is numpy and
    the builtin is not shadowed; NumPy 2 renames: ``np.NaN`` -> ``np.nan``, ``np.float_`` -> ``np.float64``, ..."""
    for node in ctx.nodes:
        if not (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
                and ctx.resolve(node.value) == "numpy" and dotted(node.value)):
            continue
        if node.attr in _NUMPY_BUILTINS and _NUMPY_BUILTINS[node.attr] not in ctx.state.bound:
            builtin = _NUMPY_BUILTINS[node.attr]
            yield ctx.replace("numpy-aliases", f"numpy.{node.attr} was the builtin {builtin}, removed in NumPy 1.24",
                              node, builtin)
        elif node.attr in _NUMPY2:
            yield ctx.replace("numpy-aliases", f"numpy.{node.attr} was removed in NumPy 2.0", node,
                              f"{dotted(node.value)}.{_NUMPY2[node.attr]}")


_PY2_BUILTINS = {"xrange": "range", "raw_input": "input"}
_DICT_ITERATORS = {"iteritems": "items", "itervalues": "values", "iterkeys": "keys"}


@rule("python2-builtins")
def _python2_builtins(ctx: Context) -> Iterator[Item]:
    """``xrange(`` -> ``range(``, ``raw_input(`` -> ``input(`` (where the notebook does not define them);
    ``.iteritems()`` -> ``.items()``, ``.itervalues()``, ``.iterkeys()`` (not inside ``next(...)``)."""
    for node in ctx.nodes:
        if isinstance(node, ast.Name) and node.id in _PY2_BUILTINS and isinstance(node.ctx, ast.Load):
            if node.id not in ctx.state.bound:
                yield ctx.replace("python2-builtins", f"{node.id} is {_PY2_BUILTINS[node.id]} in Python 3", node,
                                  _PY2_BUILTINS[node.id])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in _DICT_ITERATORS and not node.args and not node.keywords):
            parent = ctx.parent(node)
            if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id == "next":
                continue
            end = ctx.text.end(node.func)
            if ctx.text.text[end - len(node.func.attr) : end] == node.func.attr:
                new = _DICT_ITERATORS[node.func.attr]
                yield make_fix("python2-builtins", f".{node.func.attr}() is .{new}() in Python 3 (and in pandas 2)",
                               ctx.text.span(node), [Edit(end - len(node.func.attr), end, new)])


@rule("pandas-numeric-only")
def _numeric_only(ctx: Context) -> Iterator[Item]:
    """``df.corr()`` / ``df.cov()`` -> ``df.corr(numeric_only=True)``: before pandas 2.0 they skipped text
    columns; now they raise. Only calls without a positional argument: ``Series.corr(other)`` takes one."""
    for node in ctx.nodes:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("corr", "cov") and not node.args
                and not any(k.arg == "numeric_only" or k.arg is None for k in node.keywords)):
            continue
        end = ctx.text.end(node)
        if ctx.text.text[end - 1 : end] != ")":
            continue
        text = ", numeric_only=True)" if node.keywords else "numeric_only=True)"
        yield make_fix("pandas-numeric-only",
                       f"DataFrame.{node.func.attr}() skipped text columns before pandas 2.0; now it needs "
                       "numeric_only=True to do the same", ctx.text.span(node), [Edit(end - 1, end, text)])


_INPLACE_METHODS = {"fillna", "ffill", "bfill", "replace", "interpolate", "clip", "where", "mask"}


@rule("pandas-chained-inplace")
def _chained_inplace(ctx: Context) -> Iterator[Item]:
    """``df["c"].fillna(0, inplace=True)`` -> ``df["c"] = df["c"].fillna(0)``: with copy-on-write (pandas 3)
    an in-place call on a column selection changes a copy and leaves ``df`` as it was."""
    for node in ctx.nodes:
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            continue
        call = node.value
        func = call.func
        inplace = [k for k in call.keywords if k.arg == "inplace"]
        if not (isinstance(func, ast.Attribute) and func.attr in _INPLACE_METHODS and len(inplace) == 1
                and isinstance(inplace[0].value, ast.Constant) and inplace[0].value.value is True):
            continue
        target = func.value
        if not (isinstance(target, ast.Subscript | ast.Attribute) and dotted(_frame_of(target))):
            continue  # only `frame[...]` / `frame.col`: a plain name changes in place as before
        if isinstance(target, ast.Attribute) and target.attr in ("loc", "iloc", "str", "dt", "cat"):
            continue
        if node.lineno != node.end_lineno:
            continue  # keep every line where it was
        selection = ctx.text.seg(target)
        rest = [ctx.text.seg(a) for a in call.args] + [ctx.text.seg(k) for k in call.keywords if k.arg != "inplace"]
        new = f"{selection} = {selection}.{func.attr}({', '.join(rest)})"
        yield ctx.replace("pandas-chained-inplace",
                          f"{func.attr}(inplace=True) on a column selection changes a copy under pandas 3's "
                          "copy-on-write", node, new)


def _frame_of(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.Subscript | ast.Attribute):
        node = node.value
    return node
