"""The request schema: one schema from the frame the model was fitted on to the request it serves.

At training time `RequestSchema.from_frame(X, contract)` records every input column of the model
with its exact pandas dtype (categories included), whether the training data had missing values
in it, and whether the data contract's row rules apply to it: they do for a column of the data
file whose training values pass them; a column the notebook computes or transforms is *derived*,
and the contract says nothing about it. The schema is stored with the registered model.

At serving time `validate` checks each JSON record (types for every column, the contract's rules
for the raw ones) and `frame` builds the DataFrame with the training dtypes, so a row gets the same
prediction alone or in a batch of any size (pandas would otherwise infer dtypes per batch).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

KINDS = ("integer", "number", "boolean", "string", "category", "datetime")
_EXAMPLE_CHECK_ROWS = 200


def kind_of(dtype: Any) -> str:
    """The JSON-facing kind of a pandas dtype."""
    import pandas as pd
    from pandas.api import types as t

    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if t.is_bool_dtype(dtype):
        return "boolean"
    if t.is_integer_dtype(dtype):
        return "integer"
    if t.is_float_dtype(dtype):
        return "number"
    if t.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # pandas dtype as text ("int64", "float64", "str", "object", "category", "datetime64[ns]")
    kind: str  # one of KINDS
    nullable: bool  # the training data had missing values here
    derived: bool  # made or transformed by the notebook: the contract's rules do not apply
    categories: list | None = None
    ordered: bool = False


def jsonable(value: Any) -> Any:
    """A value of a DataFrame cell as JSON would carry it (NaN/NaT -> None, numpy -> Python)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (datetime, date)):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


class RequestSchema:
    def __init__(self, columns: list[Column]) -> None:
        self.columns = list(columns)
        self.names = [c.name for c in self.columns]
        self._builders: list[tuple[str, Callable[[list], Any]]] | None = None

    # ------------------------------------------------------------------ building and storing
    @classmethod
    def from_frame(cls, X: Any, contract: Any = None) -> RequestSchema:
        columns = []
        sample = X.head(_EXAMPLE_CHECK_ROWS)
        for name in X.columns:
            series = X[name]
            dtype = series.dtype
            kind = kind_of(dtype)
            derived = True
            if contract is not None and str(name) in contract.columns:
                values = [jsonable(v) for v in sample[name].tolist()]
                derived = any(contract.validate_record({str(name): v}, [str(name)]) for v in values)
            cats = None
            ordered = False
            if kind == "category":
                cats = [jsonable(v) for v in dtype.categories.tolist()]
                ordered = bool(dtype.ordered)
            columns.append(Column(str(name), str(dtype), kind, bool(series.isna().any()), derived, cats, ordered))
        return cls(columns)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RequestSchema:
        return cls([Column(**c) for c in data.get("columns", [])])

    @classmethod
    def from_signature(cls, names: list[str], types: list[str]) -> RequestSchema:
        """For models logged without a stored schema: the MLflow signature's types, all derived."""
        mapping = {"double": ("float64", "number"), "float": ("float64", "number"), "long": ("int64", "integer"),
                   "integer": ("int64", "integer"), "boolean": ("bool", "boolean"),
                   "datetime": ("datetime64[ns]", "datetime")}
        cols = []
        for name, kind in zip(names, types, strict=True):
            dtype, k = mapping.get(kind, ("object", "string"))
            cols.append(Column(name, dtype, k, k in ("number", "string"), True))
        return cls(cols)

    def derived(self) -> list[str]:
        return [c.name for c in self.columns if c.derived]

    def records(self, X: Any, n: int = 5) -> list[dict[str, Any]]:
        """The first ``n`` rows of ``X`` as JSON records of the schema's columns."""
        rows = X[self.names].head(n).to_dict(orient="records")
        return [{k: jsonable(v) for k, v in row.items()} for row in rows]

    # ------------------------------------------------------------------ serving
    def validate(self, records: list, contract: Any = None) -> list[dict[str, Any]]:
        """Errors of a request's records: {"row", "column", "rule", "message"} (empty when valid)."""
        errors: list[dict[str, Any]] = []
        checks = self._checks(contract)
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                errors.append({"row": i, "column": "(record)", "rule": "type",
                               "message": "each record must be an object"})
                continue
            for name, check in checks:
                message = check(record)
                if message is not None:
                    rule, text = message
                    errors.append({"row": i, "column": name, "rule": rule, "message": text})
        return errors

    def frame(self, records: list):
        """The model's input DataFrame for validated records, with the training dtypes."""
        import pandas as pd

        if self._builders is None:
            self._builders = [(c.name, _builder(c)) for c in self.columns]
        data = {name: build([r.get(name) for r in records]) for name, build in self._builders}
        return pd.DataFrame(data, index=pd.RangeIndex(len(records)), copy=False)

    def frame_from_df(self, df: Any):
        """A scoring file's columns cast to the training dtypes (ValueError names a column that does not fit)."""
        missing = [n for n in self.names if n not in df.columns]
        if missing:
            raise ValueError(f"input is missing column(s): {', '.join(missing)}")
        return self.frame([{k: jsonable(v) for k, v in row.items()} for row in df[self.names].to_dict("records")])

    def _checks(self, contract: Any):
        cached = getattr(self, "_compiled", None)
        if cached is not None and cached[0] is contract:
            return cached[1]
        rules = getattr(contract, "columns", {}) if contract is not None else {}
        compiled = [(c.name, _check(c, None if c.derived else rules.get(c.name))) for c in self.columns]
        self._compiled = (contract, compiled)
        return compiled


def _check(col: Column, rule: Any) -> Callable[[dict], tuple[str, str] | None]:
    """One column's check on a record: the contract's rule for raw columns, then the dtype's."""
    name, kind, nullable = col.name, col.kind, col.nullable
    contract_check = rule.check if rule is not None else None
    derived_note = " (the notebook computes this column: send it computed)" if col.derived else ""
    categories = frozenset(col.categories or ()) | frozenset(str(c) for c in col.categories or ())
    known = ", ".join(map(str, (col.categories or [])[:8])) + (", ..." if len(col.categories or []) > 8 else "")
    wants = {"integer": "an integer", "number": "a number", "boolean": "a boolean", "string": "a string",
             "category": "a category value", "datetime": "an ISO 8601 date or timestamp"}[kind]

    def check(record: dict) -> tuple[str, str] | None:
        if name not in record:
            return None if nullable else ("required", f"`{name}` is missing{derived_note}")
        value = record[name]
        if contract_check is not None:
            err = contract_check(value)
            if err is not None:
                return err.rule, err.message
        if value is None or (type(value) is float and value != value):
            if nullable:
                return None
            return "required", f"`{name}` must have a value (the training data has no missing {name}){derived_note}"
        t = type(value)
        if kind == "number":
            ok = (t is int or t is float) and value not in (math.inf, -math.inf)
        elif kind == "integer":
            ok = t is int or (t is float and value.is_integer())
        elif kind == "boolean":
            ok = t is bool or (t is int and value in (0, 1))
        elif kind == "datetime":
            ok = t is str and _parses_as_time(value)
        elif kind == "category":  # the model's encoding knows these values only
            ok = t in (str, int, float, bool)
            if ok and value not in categories and str(value) not in categories:
                return "category", f"`{name}`={_short(value)} is not a category the model was trained with " \
                                   f"({known}){derived_note}"
        else:  # text (a number or a boolean is taken as its text, as the contract's rule does)
            ok = t in (str, int, float, bool)
        if ok:
            return None
        return "type", f"`{name}`={_short(value)} is not {wants}{derived_note}"

    return check


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parses_as_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _builder(col: Column) -> Callable[[list], Any]:
    import numpy as np
    import pandas as pd

    kind, dtype = col.kind, col.dtype
    if kind == "category":
        cats = pd.Index(col.categories or [])
        categorical = pd.CategoricalDtype(cats, ordered=col.ordered)
        as_text = all(isinstance(c, str) for c in col.categories or [])
        return lambda values: pd.Categorical([str(v) if as_text and v is not None else v for v in values],
                                             dtype=categorical)
    if kind == "number" and dtype in ("float64", "float32"):
        np_dtype = np.dtype(dtype)
        return lambda values: np.array([np.nan if v is None else v for v in values], dtype=np_dtype)
    if kind == "integer" and dtype in ("int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64"):
        np_dtype = np.dtype(dtype)
        return lambda values: np.array([int(v) for v in values], dtype=np_dtype)
    if kind == "boolean" and dtype == "bool":
        return lambda values: np.array([bool(v) for v in values], dtype=bool)
    if kind == "datetime":
        return lambda values: _datetimes(values).astype(dtype)
    if dtype == "object":
        # a missing value is NaN, as pandas reads it (None would not count as missing for an imputer)
        return lambda values: np.array([np.nan if v is None else v for v in values], dtype=object)
    pandas_dtype = pd.api.types.pandas_dtype(dtype)  # "str", "string", "Int64", "boolean", ...
    if kind == "string":
        return lambda values: pd.array([v if v is None or type(v) is str else str(v) for v in values],
                                       dtype=pandas_dtype)
    return lambda values: pd.array(values, dtype=pandas_dtype)


def _datetimes(values):
    """Request timestamps, each parsed on its own: ISO 8601 (what /schema and the example send), else each
    value's own format, so a row means the same instant alone and in a batch."""
    import pandas as pd

    series = pd.Series(values, dtype=object)
    try:
        return pd.to_datetime(series, format="ISO8601", utc=None)
    except (ValueError, TypeError):
        return pd.to_datetime(series, format="mixed", utc=None)
