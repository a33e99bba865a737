"""Model training calls in a notebook, in code order, and hints about the target column.

Recognised: ``<est>.fit(...)`` on estimators (sklearn and friends, XGBoost/LightGBM/CatBoost sklearn
APIs, Keras models, statsmodels ``sm.OLS(y, X).fit()`` and formulas ``smf.ols("y ~ a", df).fit()``),
``xgb.train`` / ``lgb.train``, PyTorch loops (``optimizer.step()`` on ``optim.X(model.parameters())``)
and Lightning ``trainer.fit(model)``. ``.fit`` on transformers (scalers, encoders, imputers, PCA,
vectorizers, clustering, ...) is not a model fit.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..facts import Evidence, ModelFit
from ._astutil import Aliases, Cell, const_str, dotted, line_of, source_of, walk_ordered
from .estimators import (
    _FORMULA_FUNCS,
    NOT_MODEL_CLASS,
    NOT_MODEL_MODULES,
    NOT_MODEL_VAR,
    WRAPPERS,
    formula_target,
    framework_of,
    loss_task,
    task_of,
)
from .notebooks import ReadNotebook


@dataclass
class Fit:
    """A model fit plus what inspection needs later (internal)."""

    fit: ModelFit
    seq: int
    top_level: bool
    target_node: ast.AST | None = None
    features_node: ast.AST | None = None
    formula_target: str = ""


@dataclass
class Binding:
    seq: int
    value: ast.AST
    split_index: int = -1  # position in a train_test_split tuple target
    cell: int = 0
    snippet: str = ""


@dataclass
class NotebookModel:
    """Everything model inspection learnt from one notebook."""

    path: str
    fits: list[Fit] = field(default_factory=list)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    frames: dict[str, str] = field(default_factory=dict)  # frame variable -> variable it derives from
    created_columns: dict[str, Evidence] = field(default_factory=dict)
    # A column made in the notebook -> the column it is computed from or renamed from
    # (``df["y"] = df["label"].map(...)``, ``df.rename(columns={"v1": "target"})``).
    column_sources: dict[str, str] = field(default_factory=dict)
    # ``df.columns = [...]``: every list of names given to a frame's columns, in code order.
    column_lists: list[list[str]] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)  # names bound to lists of strings
    aliases: Aliases = field(default_factory=Aliases)


@dataclass
class _Est:
    qualified: str
    class_name: str
    task: str
    framework: str


class _Scanner:
    def __init__(self, path: str) -> None:
        self.out = NotebookModel(path)
        self.classes: dict[str, _Est] = {}  # variable -> estimator constructed
        self.torch_modules: set[str] = set()
        self.optimizers: dict[str, str] = {}  # optimizer variable -> model variable
        self.losses: dict[str, str] = {}  # model variable -> keras loss / "criterion" task
        self.dicts: dict[str, ast.Dict] = {}
        self.lists = self.out.lists
        self.stepped: set[tuple[int, str]] = set()
        self.seq = 0

    # -- estimators -------------------------------------------------------------------------------
    def estimator(self, node: ast.AST) -> _Est | None:
        if isinstance(node, ast.Name) and node.id in self.classes:
            return self.classes[node.id]
        if not isinstance(node, ast.Call):
            return None
        qualified = self.out.aliases.resolve(node.func)
        name = qualified.rsplit(".", 1)[-1]
        if name in ("Pipeline", "make_pipeline"):
            steps = (
                node.args[-1]
                if node.args and name == "make_pipeline"
                else (
                    node.args[0]
                    if node.args
                    else next((k.value for k in node.keywords if k.arg == "steps"), None)
                )
            )
            if isinstance(steps, ast.List) and steps.elts:
                last = steps.elts[-1]
                steps = last.elts[-1] if isinstance(last, ast.Tuple) and last.elts else last
            inner = self.estimator(steps) if steps is not None else None
            return _Est(qualified, "Pipeline", inner.task if inner else "unknown", "sklearn")
        if name in WRAPPERS or name.startswith(("Stacking", "Voting", "Bagging", "AdaBoost")):
            arg = (
                node.args[0]
                if node.args
                else next(
                    (k.value for k in node.keywords if k.arg in ("estimator", "base_estimator", "regressor")),
                    None,
                )
            )
            inner = self.estimator(arg) if arg is not None else None
            task = task_of(name) if task_of(name) != "unknown" else (inner.task if inner else "unknown")
            return _Est(qualified, name, task, framework_of(qualified, name))
        if name[:1].isupper() and name.isidentifier():
            if name in self.torch_modules:
                return _Est(qualified, name, "unknown", "torch")
            return _Est(qualified, name, task_of(name), framework_of(qualified, name))
        if name in _FORMULA_FUNCS and qualified.startswith("statsmodels"):
            return _Est(
                qualified,
                name.upper() if name in ("ols", "wls", "gls") else name.capitalize(),
                task_of(name),
                "statsmodels",
            )
        return None

    @staticmethod
    def not_a_model(est: _Est) -> bool:
        return bool(NOT_MODEL_CLASS.search(est.class_name)) or est.qualified.startswith(NOT_MODEL_MODULES)

    # -- statements -------------------------------------------------------------------------------
    def scan(self, cell: Cell) -> None:
        assert cell.tree is not None
        functions = {
            id(n)
            for fn in ast.walk(cell.tree)
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            for n in ast.walk(fn)
            if n is not fn
        }
        assigned: dict[int, str] = {}
        for node in walk_ordered(cell.tree):
            self.seq += 1
            if isinstance(node, ast.Import | ast.ImportFrom):
                self.out.aliases.add(node)
            elif isinstance(node, ast.ClassDef):
                if any(
                    dotted(b).endswith("Module") or dotted(b).endswith("LightningModule") for b in node.bases
                ):
                    self.torch_modules.add(node.name)
            elif isinstance(node, ast.Assign):
                self.assign(cell, node, assigned)
            elif isinstance(node, ast.Call):
                self.renames(node)
                self.call(cell, node, assigned.get(id(node), ""), id(node) not in functions)

    def renames(self, node: ast.Call) -> None:
        """``df.rename(columns={"old": "new"})``: the new name's source is the old column."""
        if not (isinstance(node.func, ast.Attribute) and node.func.attr == "rename"):
            return
        mapping = next((k.value for k in node.keywords if k.arg == "columns"), None)
        if isinstance(mapping, ast.Dict):
            for key, value in zip(mapping.keys, mapping.values, strict=False):
                old = const_str(key, self.out.env, self.out.aliases) if key is not None else None
                new = const_str(value, self.out.env, self.out.aliases)
                if old is not None and new is not None and old != new:
                    self.out.column_sources.setdefault(new, old)

    def assign(self, cell: Cell, node: ast.Assign, assigned: dict[int, str]) -> None:
        value = node.value
        for target in node.targets:
            if isinstance(target, ast.Name):
                name = target.id
                self.out.bindings.setdefault(name, []).append(
                    Binding(self.seq, value, cell=cell.index, snippet=line_of(cell.code, node.lineno))
                )
                text = const_str(value, self.out.env, self.out.aliases)
                if text is not None:
                    self.out.env[name] = text
                if isinstance(value, ast.Call):
                    assigned[id(value)] = name
                    if isinstance(value.func, ast.Attribute):
                        for inner in ast.walk(value.func.value):
                            if isinstance(inner, ast.Call):
                                assigned.setdefault(id(inner), name)
                    est = self.estimator(value)
                    if est is not None:
                        self.classes[name] = est
                    self.track_frame(name, value)
                    self.track_optimizer(name, value)
                elif isinstance(value, ast.Dict):
                    self.dicts[name] = value
                elif isinstance(value, ast.List | ast.Tuple):
                    names = [const_str(e, self.out.env, self.out.aliases) for e in value.elts]
                    if names and all(n is not None for n in names):
                        self.lists[name] = [n for n in names if n is not None]
                elif isinstance(value, ast.Subscript | ast.Name) and dotted(_base(value)) in self.out.frames:
                    self.out.frames[name] = dotted(_base(value))
            elif (
                isinstance(target, ast.Tuple)
                and isinstance(value, ast.Call)
                and self.out.aliases.resolve(value.func).endswith("train_test_split")
            ):
                for index, elt in enumerate(target.elts):
                    if isinstance(elt, ast.Name):
                        self.out.bindings.setdefault(elt.id, []).append(
                            Binding(self.seq, value, index, cell.index, line_of(cell.code, node.lineno))
                        )
            elif isinstance(target, ast.Attribute) and target.attr == "columns":
                names = self.lists.get(value.id) if isinstance(value, ast.Name) else None
                if isinstance(value, ast.List | ast.Tuple):
                    names = [const_str(e, self.out.env, self.out.aliases) for e in value.elts]
                if names and all(n is not None for n in names):
                    self.out.column_lists.append([n for n in names if n is not None])
            elif isinstance(target, ast.Subscript) and dotted(target.value):
                column = const_str(target.slice, self.out.env, self.out.aliases)
                source = _first_column(value, self.out.env)
                if column is not None and source is not None and source != column:
                    self.out.column_sources.setdefault(column, source)
                if column is not None:
                    self.out.created_columns.setdefault(
                        column,
                        Evidence(
                            path=self.out.path,
                            cell=cell.index,
                            line=node.lineno,
                            snippet=line_of(cell.code, node.lineno),
                        ),
                    )

    def track_frame(self, name: str, value: ast.Call) -> None:
        qualified = self.out.aliases.resolve(value.func)
        if qualified.startswith(("pandas.", "polars.")) or re.search(r"read_\w+$", qualified):
            self.out.frames[name] = name
        elif isinstance(value.func, ast.Attribute):
            base = dotted(_base(value.func.value))
            if base in self.out.frames:
                self.out.frames[name] = base

    def track_optimizer(self, name: str, value: ast.Call) -> None:
        qualified = self.out.aliases.resolve(value.func)
        if ".optim." in f".{qualified}" or qualified.startswith("optim."):
            first = value.args[0] if value.args else None
            if (
                isinstance(first, ast.Call)
                and isinstance(first.func, ast.Attribute)
                and first.func.attr == "parameters"
            ):
                self.optimizers[name] = dotted(first.func.value)
            else:
                self.optimizers[name] = ""
        if re.search(r"(CrossEntropy|BCE|NLL)\w*Loss$", qualified):
            self.losses["__criterion__"] = "classification"
        elif re.search(r"(MSE|L1|SmoothL1|Huber)Loss$", qualified):
            self.losses["__criterion__"] = "regression"

    def call(self, cell: Cell, node: ast.Call, assigned: str, top_level: bool) -> None:
        func = node.func
        qualified = self.out.aliases.resolve(func)
        if isinstance(func, ast.Attribute) and func.attr == "compile" and isinstance(func.value, ast.Name):
            loss = next((k.value for k in node.keywords if k.arg == "loss"), None)
            text = const_str(loss, {}, None) if loss is not None else None
            if text:
                self.losses[func.value.id] = text
            return
        if qualified in ("xgboost.train", "lightgbm.train", "catboost.train"):
            self.booster(cell, node, qualified, assigned, top_level)
            return
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "step"
            and isinstance(func.value, ast.Name)
            and func.value.id in self.optimizers
            and (cell.index, func.value.id) not in self.stepped
        ):
            self.stepped.add((cell.index, func.value.id))
            variable = self.optimizers[func.value.id]
            est = self.classes.get(variable)
            self.add(
                cell,
                node,
                top_level,
                variable=variable,
                class_name=est.class_name if est else "",
                framework="torch",
                task=self.losses.get("__criterion__", "unknown"),
            )
            return
        if not (isinstance(func, ast.Attribute) and func.attr in ("fit", "fit_generator")):
            return
        receiver = func.value
        est = self.estimator(receiver)
        if isinstance(receiver, ast.Name):
            if est is None and NOT_MODEL_VAR.match(receiver.id):
                return
            variable = receiver.id
        elif isinstance(receiver, ast.Call):
            variable = assigned
        else:
            variable = dotted(receiver)
        if est is not None and self.not_a_model(est):
            return
        if est is None and not node.args and not node.keywords:
            return
        keywords = {k.arg for k in node.keywords}
        framework = (
            est.framework
            if est
            else (
                "keras" if keywords & {"epochs", "batch_size", "validation_data", "callbacks"} else "unknown"
            )
        )
        class_name, task = (est.class_name, est.task) if est else ("", "unknown")
        features = (
            node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("X", "x")), None)
        )
        target = (
            node.args[1]
            if len(node.args) > 1
            else next((k.value for k in node.keywords if k.arg == "y"), None)
        )
        formula = ""
        ctor: ast.AST | None = receiver
        if isinstance(receiver, ast.Name) and self.out.bindings.get(receiver.id):
            ctor = self.out.bindings[receiver.id][-1].value
        if framework == "statsmodels" and isinstance(ctor, ast.Call):
            args = ctor.args
            if (
                args
                and isinstance(args[0], ast.Constant)
                and isinstance(args[0].value, str)
                and "~" in args[0].value
            ):
                formula = formula_target(args[0].value)
                data = (
                    args[1]
                    if len(args) > 1
                    else next((k.value for k in ctor.keywords if k.arg == "data"), None)
                )
                features, target = data, None
            elif len(args) >= 2:
                target, features = args[0], args[1]
            elif args:
                target, features = args[0], None
        if framework == "statsmodels" and assigned:
            variable = assigned
        if (
            class_name == "Trainer"
            and framework == "torch"
            and node.args
            and isinstance(node.args[0], ast.Name)
        ):
            variable = node.args[0].id
            owned = self.classes.get(variable)
            class_name, features, target = owned.class_name if owned else "", None, None
        if framework == "keras" and task == "unknown":
            task = loss_task(self.losses.get(variable, ""))
        self.add(
            cell,
            node,
            top_level,
            variable=variable,
            class_name=class_name,
            framework=framework,
            task=task,
            features=features,
            target=target,
            formula=formula,
        )

    def booster(self, cell: Cell, node: ast.Call, qualified: str, assigned: str, top_level: bool) -> None:
        params = (
            node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "params"), None)
        )
        if isinstance(params, ast.Name):
            params = self.dicts.get(params.id)
        task = "unknown"
        if isinstance(params, ast.Dict):
            for key, value in zip(params.keys, params.values, strict=False):
                if isinstance(key, ast.Constant) and key.value in (
                    "objective",
                    "application",
                    "loss_function",
                ):
                    objective = const_str(value, {}, None) or ""
                    if re.match(r"(binary|multi|softmax|Logloss|MultiClass|cross)", objective):
                        task = "classification"
                    elif re.match(
                        r"(reg|regression|huber|poisson|RMSE|MAE|quantile|mse|mae|l1|l2)", objective
                    ):
                        task = "regression"
        dataset = (
            node.args[1]
            if len(node.args) > 1
            else next((k.value for k in node.keywords if k.arg in ("dtrain", "train_set", "pool")), None)
        )
        features = target = None
        if isinstance(dataset, ast.Name):
            bound = self.out.bindings.get(dataset.id, [])
            if bound and isinstance(bound[-1].value, ast.Call):
                call = bound[-1].value
                features = call.args[0] if call.args else None
                target = next((k.value for k in call.keywords if k.arg == "label"), None)
        framework = qualified.split(".")[0]
        self.add(
            cell,
            node,
            top_level,
            variable=assigned,
            class_name="Booster",
            framework=framework,
            task=task,
            features=features,
            target=target,
        )

    def add(
        self,
        cell: Cell,
        node: ast.Call,
        top_level: bool,
        *,
        variable: str,
        class_name: str,
        framework: str,
        task: str,
        features: ast.AST | None = None,
        target: ast.AST | None = None,
        formula: str = "",
    ) -> None:
        fit = ModelFit(
            variable=variable,
            class_name=class_name,
            framework=framework,
            task=task,
            features_variable=source_of(cell.code, features, 80) if features is not None else "",
            target_variable=formula or (source_of(cell.code, target, 80) if target is not None else ""),
            evidence=Evidence(
                path=self.out.path, cell=cell.index, line=node.lineno, snippet=line_of(cell.code, node.lineno)
            ),
        )
        self.out.fits.append(Fit(fit, self.seq, top_level, target, features, formula))


def _first_column(node: ast.AST, env: dict[str, str]) -> str | None:
    """The first ``frame["col"]`` / ``frame.col`` an expression reads (best effort)."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Subscript) and isinstance(inner.value, ast.Name | ast.Attribute):
            column = const_str(inner.slice, env)
            if column is not None:
                return column
        if (
            isinstance(inner, ast.Attribute)
            and isinstance(inner.value, ast.Name)
            and re.match(r"^(df|data|dataset|train|frame)\w*$", inner.value.id)
            and inner.attr not in ("map", "replace", "apply", "astype", "values", "loc", "iloc", "copy", "str")
        ):
            return inner.attr
    return None


def _base(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.Subscript | ast.Attribute | ast.Call):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node


def scan_models(nb: ReadNotebook) -> NotebookModel:
    scanner = _Scanner(nb.path)
    if nb.is_python:
        for cell in nb.cells:
            if cell.tree is not None:
                scanner.scan(cell)
    return scanner.out


_ARRAY_ATTRS = ("values", "to_numpy", "toarray", "todense")
_ARRAY_CALLS = ("fit_transform", "transform", "numpy.array", "numpy.asarray", "numpy.vstack", "numpy.hstack",
                "numpy.column_stack", "numpy.concatenate")


def fitted_on_array(nbm: NotebookModel, fit: Fit, depth: int = 0) -> str:
    """How the features of ``fit`` are an array rather than a DataFrame (``X.values``, a scaler's
    ``fit_transform``, ``np.array``), or "" when they may well be a frame."""
    node = fit.features_node
    for _ in range(8):
        if node is None:
            return ""
        if isinstance(node, ast.Attribute) and node.attr in _ARRAY_ATTRS:
            return f"`{dotted(node) or '.' + node.attr}`"
        if isinstance(node, ast.Call):
            name = nbm.aliases.resolve(node.func)
            attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if attr in _ARRAY_ATTRS or attr in ("fit_transform", "transform") or name in _ARRAY_CALLS:
                return f"the result of `{attr or name}(...)`"
            return ""
        if isinstance(node, ast.Name):
            bound = [b for b in nbm.bindings.get(node.id, []) if b.seq < fit.seq]
            if not bound:
                return ""
            last = bound[-1]
            if last.split_index >= 0 and isinstance(last.value, ast.Call) and last.value.args:
                node = last.value.args[min(last.split_index // 2, len(last.value.args) - 1)]
            else:
                node = last.value
            continue
        return ""
    return ""
