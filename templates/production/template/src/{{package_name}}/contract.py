"""The data contract at runtime: the ODCS file in ``contracts/`` enforced on records and datasets.

* ``Contract.validate_record(record, columns)`` runs on every prediction request. It is pure
  Python with checks compiled once per column at load time (type coercible, required/non-null,
  finite, minimum/maximum, allowed values, string length/pattern). Fields not in the contract are
  allowed and ignored.
* ``Contract.check_dataset(df)`` runs the same row-level rules vectorised with pandas plus the
  dataset-level rules (``unique``, ``nullValues``/``invalidValues``/``duplicateValues`` thresholds,
  ``rowCount``) and reports each broken rule once with a count and up to 5 example values.
* ``check_data_main(path, as_json=...)`` is the ``check-data`` command: 0 when clean, 1 on a
  violation, 2 when the data (or contract) file cannot be read.

Rule names (``FieldError.rule`` / ``Violation.rule``, also used as metric labels):
``required``, ``type``, ``not_finite``, ``minimum``, ``maximum``, ``allowed_values``,
``min_length``, ``max_length``, ``pattern``, ``unique``, ``null_share``, ``invalid_share``,
``duplicate_share``, ``row_count``, ``missing_column``.

Null-like values: ``None``, float NaN and empty/blank strings count as missing. The target column
is the property tagged ``target``; serving callers pass the feature columns (``Contract.features``).

Depends on PyYAML only; pandas is imported lazily by the dataset functions.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ColumnRule",
    "Contract",
    "ContractError",
    "FieldError",
    "Violation",
    "check_data_main",
    "read_table",
]

TARGET_TAG = "target"
DATASET = "*"  # Violation.column for dataset-level rules
MAX_EXAMPLES = 5
_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})
_INF = float("inf")
_TYPES = frozenset({"string", "integer", "number", "boolean", "date", "timestamp"})
_OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)


class ContractError(ValueError):
    """The contract file cannot be read or does not make sense."""


@dataclass(frozen=True)
class FieldError:
    column: str
    rule: str
    message: str
    value: object


@dataclass(frozen=True)
class Violation:
    column: str
    rule: str
    count: int
    examples: list
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "rule": self.rule,
            "count": self.count,
            "examples": [_jsonable(v) for v in self.examples],
            "message": self.message,
        }


@dataclass(frozen=True)
class Threshold:
    """A library quality rule: ``metric`` compared with one ODCS operator."""

    metric: str
    operator: str
    expected: Any
    unit: str = "rows"

    def passes(self, value: float) -> bool:
        op, x = self.operator, self.expected
        if op == "mustBe":
            return value == x
        if op == "mustNotBe":
            return value != x
        if op == "mustBeGreaterThan":
            return value > x
        if op == "mustBeGreaterOrEqualTo":
            return value >= x
        if op == "mustBeLessThan":
            return value < x
        if op == "mustBeLessOrEqualTo":
            return value <= x
        if op == "mustBeBetween":
            return x[0] <= value <= x[1]
        if op == "mustNotBeBetween":
            return not (x[0] <= value <= x[1])
        return True

    def describe(self) -> str:
        words = {
            "mustBe": "=",
            "mustNotBe": "!=",
            "mustBeGreaterThan": ">",
            "mustBeGreaterOrEqualTo": ">=",
            "mustBeLessThan": "<",
            "mustBeLessOrEqualTo": "<=",
        }
        unit = "%" if self.unit == "percent" else ""
        if self.operator in words:
            return f"{words[self.operator]} {self.expected}{unit}"
        lo, hi = self.expected
        neg = "not " if self.operator == "mustNotBeBetween" else ""
        return f"{neg}between {lo}{unit} and {hi}{unit}"

    def measure(self, count: int, total: int) -> float:
        if self.unit == "percent":
            return 100.0 * count / total if total else 0.0
        return count


@dataclass(frozen=True)
class ColumnRule:
    """Everything the contract says about one column."""

    name: str
    logical_type: str = "string"
    physical_type: str = ""
    required: bool = False
    unique: bool = False
    minimum: Any = None  # int/float, or date/datetime for date/timestamp columns
    maximum: Any = None
    allowed: frozenset | None = None  # validValues (as strings for string columns)
    allowed_sorted: tuple = ()
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    null_limit: Threshold | None = None  # nullValues
    invalid_limit: Threshold | None = None  # invalidValues (how many invalid rows a dataset may have)
    duplicate_limit: Threshold | None = None  # duplicateValues
    is_target: bool = False
    check: Callable[[Any], FieldError | None] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]


class Contract:
    """A loaded ODCS contract (the first schema object of the file)."""

    def __init__(
        self,
        columns: dict[str, ColumnRule],
        *,
        name: str = "",
        path: Path | None = None,
        row_count: list[Threshold] | None = None,
        status: str = "",
    ) -> None:
        self.columns = columns
        self.name = name
        self.path = path
        self.status = status
        self.row_count = list(row_count or [])
        targets = [c.name for c in columns.values() if c.is_target]
        self.target: str | None = targets[0] if targets else None
        self.features: tuple[str, ...] = tuple(n for n in columns if n != self.target)
        self._checks: dict[str, Callable[[Any], FieldError | None]] = {n: c.check for n, c in columns.items()}

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(cls, path: str | Path) -> Contract:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ContractError(f"cannot read contract {path}: {exc}") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ContractError(f"contract {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
        contract = cls.from_dict(data, source=str(path))
        contract.path = path
        return contract

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "contract") -> Contract:
        if not isinstance(data, Mapping):
            raise ContractError(f"{source}: expected a mapping at the top level")
        schema = data.get("schema")
        if not isinstance(schema, list) or not schema or not isinstance(schema[0], Mapping):
            raise ContractError(f"{source}: no schema object (expected `schema: [{{name, properties}}]`)")
        obj = schema[0]
        props = obj.get("properties") or []
        if not isinstance(props, list):
            raise ContractError(f"{source}: schema[0].properties must be a list")
        custom_target = None
        for item in data.get("customProperties") or []:
            if isinstance(item, Mapping) and item.get("property") == "targetColumn":
                custom_target = item.get("value")
        columns: dict[str, ColumnRule] = {}
        for i, prop in enumerate(props):
            if not isinstance(prop, Mapping) or not prop.get("name"):
                raise ContractError(f"{source}: schema[0].properties[{i}] has no name")
            rule = _column_rule(prop, source=source, custom_target=custom_target)
            columns[rule.name] = rule
        row_rules = [t for t in (_threshold(q) for q in _library_rules(obj.get("quality"))) if t]
        return cls(
            columns,
            name=str(obj.get("name") or data.get("name") or ""),
            row_count=[t for t in row_rules if t.metric == "rowCount"],
            status=str(data.get("status") or ""),
        )

    # ---------------------------------------------------------------- row level
    def validate_record(
        self, record: Mapping[str, Any], columns: Iterable[str] | None = None
    ) -> list[FieldError]:
        """Check one record against the row-level rules of ``columns`` (default: the features).

        Missing keys count as null; keys the contract does not know are ignored, and so are
        names in ``columns`` that the contract does not describe.
        """
        checks = self._checks
        get = record.get
        errors: list[FieldError] = []
        for name in self.features if columns is None else columns:
            check = checks.get(name)
            if check is not None:
                err = check(get(name))
                if err is not None:
                    errors.append(err)
        return errors

    # ---------------------------------------------------------------- dataset level
    def check_dataset(self, df: Any) -> list[Violation]:
        """All rules on a DataFrame, one Violation per broken (column, rule)."""
        total = int(len(df))
        out: list[Violation] = []
        for t in self.row_count:
            if not t.passes(total):
                out.append(
                    Violation(
                        DATASET, "row_count", total, [], f"{total} rows; the contract wants {t.describe()}"
                    )
                )
        present = {str(c): c for c in df.columns}
        for name, rule in self.columns.items():
            if name not in present:
                out.append(
                    Violation(name, "missing_column", total, [], f"column {name!r} is not in the data")
                )
                continue
            series = df[present[name]]
            if getattr(series, "ndim", 1) != 1:  # duplicated column names
                series = series.iloc[:, 0]
            out.extend(_check_series(rule, series.reset_index(drop=True), total))
        return out


# -------------------------------------------------------------------- building rules


def _library_rules(quality: Any) -> list[Mapping[str, Any]]:
    if not isinstance(quality, list):
        return []
    rules = []
    for q in quality:
        if not isinstance(q, Mapping):
            continue
        if q.get("type", "library") != "library" and "metric" not in q:
            continue  # text / sql / custom rules are for other tools
        if q.get("metric") or q.get("rule"):
            rules.append(q)
    return rules


def _threshold(q: Mapping[str, Any]) -> Threshold | None:
    metric = q.get("metric") or q.get("rule")
    for op in _OPERATORS:
        if op in q:
            return Threshold(str(metric), op, q[op], str(q.get("unit") or "rows"))
    return None


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text[:10]) if len(text) >= 10 else None
        except ValueError:
            return None
    return None


def _parse_timestamp(value: Any) -> datetime | None:
    """A naive UTC datetime (aware values are converted; naive ones taken as they are)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)  # noqa: UP017 (datetime.UTC needs 3.11)
    return dt


def _bound(value: Any, logical: str, what: str, source: str, column: str) -> Any:
    if value is None:
        return None
    parsed: Any
    if logical in {"integer", "number"}:
        parsed = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    elif logical == "date":
        parsed = _parse_date(value)
    elif logical == "timestamp":
        parsed = _parse_timestamp(value)
    else:
        return None  # minimum/maximum mean nothing for strings/booleans
    if parsed is None:
        raise ContractError(f"{source}: {column}.logicalTypeOptions.{what} {value!r} is not a {logical}")
    return parsed


def _column_rule(prop: Mapping[str, Any], *, source: str, custom_target: Any) -> ColumnRule:
    name = str(prop["name"])
    logical = str(prop.get("logicalType") or "string")
    if logical not in _TYPES:
        logical = "any"  # object/array/map/...: only required/null rules apply
    options = prop.get("logicalTypeOptions") or {}
    if not isinstance(options, Mapping):
        raise ContractError(f"{source}: {name}.logicalTypeOptions must be a mapping")
    allowed: frozenset | None = None
    allowed_sorted: tuple = ()
    pattern = options.get("pattern") if logical == "string" else None
    null_limit = invalid_limit = duplicate_limit = None
    for q in _library_rules(prop.get("quality")):
        metric = q.get("metric") or q.get("rule")
        threshold = _threshold(q)
        if metric == "invalidValues":
            args = q.get("arguments") or {}
            if isinstance(args, Mapping) and isinstance(args.get("validValues"), list):
                values = args["validValues"]
                if logical == "string":
                    allowed = frozenset(str(v) for v in values)
                else:
                    allowed = frozenset(v for v in values if not isinstance(v, (list, dict)))
                allowed_sorted = tuple(sorted(str(v) for v in values))
            if isinstance(args, Mapping) and isinstance(args.get("pattern"), str):
                pattern = args["pattern"]
            invalid_limit = threshold
        elif metric in {"nullValues", "missingValues"}:
            null_limit = threshold
        elif metric == "duplicateValues":
            duplicate_limit = threshold
    tags = prop.get("tags") or []
    is_target = (isinstance(tags, list) and TARGET_TAG in tags) or (
        custom_target is not None and custom_target == name
    )
    rule = ColumnRule(
        name=name,
        logical_type=logical,
        physical_type=str(prop.get("physicalType") or ""),
        required=bool(prop.get("required", False)),
        unique=bool(prop.get("unique", False)),
        minimum=_bound(options.get("minimum"), logical, "minimum", source, name),
        maximum=_bound(options.get("maximum"), logical, "maximum", source, name),
        allowed=allowed,
        allowed_sorted=allowed_sorted,
        pattern=pattern,
        min_length=options.get("minLength") if logical == "string" else None,
        max_length=options.get("maxLength") if logical == "string" else None,
        null_limit=null_limit,
        invalid_limit=invalid_limit,
        duplicate_limit=duplicate_limit,
        is_target=bool(is_target),
    )
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ContractError(f"{source}: {name} has an invalid pattern {pattern!r}: {exc}") from exc
    return _with_check(rule)


def _with_check(rule: ColumnRule) -> ColumnRule:
    import dataclasses

    return dataclasses.replace(rule, check=_compile(rule))


def _show(values: tuple, limit: int = 8) -> str:
    shown = ", ".join(values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def _compile(rule: ColumnRule) -> Callable[[Any], FieldError | None]:
    """Build the per-value check for one column (the hot path of validate_record)."""
    name = rule.name
    logical = rule.logical_type
    required = rule.required
    lo, hi = rule.minimum, rule.maximum
    allowed = rule.allowed
    allowed_text = _show(rule.allowed_sorted)
    regex = re.compile(rule.pattern) if rule.pattern else None
    min_len, max_len = rule.min_length, rule.max_length

    def missing(value: Any) -> FieldError | None:
        if required:
            return FieldError(name, "required", f"{name} is required", value)
        return None

    def bounds(x: Any, value: Any) -> FieldError | None:
        if lo is not None and x < lo:
            return FieldError(name, "minimum", f"{name}={value!r} is below the minimum {lo}", value)
        if hi is not None and x > hi:
            return FieldError(name, "maximum", f"{name}={value!r} is above the maximum {hi}", value)
        if allowed is not None and x not in allowed:
            return FieldError(
                name, "allowed_values", f"{name}={value!r} is not one of: {allowed_text}", value
            )
        return None

    def type_error(value: Any, what: str) -> FieldError:
        return FieldError(name, "type", f"{name}={value!r} is not {what}", value)

    if logical == "number" or logical == "integer":
        want_int = logical == "integer"
        what = "an integer" if want_int else "a number"

        def check_numeric(value: Any) -> FieldError | None:
            t = type(value)
            if t is int:
                x = value
            elif t is float:
                x = value
            elif value is None:
                return missing(value)
            elif t is bool:
                return type_error(value, what)
            elif t is str:
                text = value.strip()
                if not text:
                    return missing(value)
                try:
                    x = int(text) if want_int else float(text)
                except ValueError:
                    try:
                        x = float(text)
                    except ValueError:
                        return type_error(value, what)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                x = value  # numpy scalars and other int/float subclasses
            else:
                try:  # numpy.float32, Decimal, ...
                    x = float(value)
                except (TypeError, ValueError):
                    return type_error(value, what)
            if x != x:  # NaN
                return missing(value)
            if x == _INF or x == -_INF:
                return FieldError(name, "not_finite", f"{name}={value!r} is not a finite number", value)
            if want_int and type(x) is not int and not float(x).is_integer():
                return type_error(value, what)
            if lo is None and hi is None and allowed is None:
                return None
            return bounds(x, value)

        return check_numeric

    if logical == "string":

        def check_string(value: Any) -> FieldError | None:
            t = type(value)
            if t is str:
                if not value or value.isspace():
                    return missing(value)
                x = value
            elif value is None:
                return missing(value)
            elif t is float and value != value:
                return missing(value)
            elif isinstance(value, (list, dict, tuple, set)):
                return type_error(value, "a string")
            else:
                x = str(value)
            if allowed is not None and x not in allowed:
                return FieldError(
                    name, "allowed_values", f"{name}={value!r} is not one of: {allowed_text}", value
                )
            if min_len is not None and len(x) < min_len:
                return FieldError(name, "min_length", f"{name} is shorter than {min_len} characters", value)
            if max_len is not None and len(x) > max_len:
                return FieldError(name, "max_length", f"{name} is longer than {max_len} characters", value)
            if regex is not None and regex.search(x) is None:
                return FieldError(name, "pattern", f"{name}={value!r} does not match {regex.pattern}", value)
            return None

        return check_string

    if logical == "boolean":

        def check_boolean(value: Any) -> FieldError | None:
            t = type(value)
            if t is bool:
                return None
            if value is None:
                return missing(value)
            if t is int or t is float:
                if value != value:
                    return missing(value)
                if value == 0 or value == 1:
                    return None
                return type_error(value, "a boolean")
            if t is str:
                text = value.strip().lower()
                if not text:
                    return missing(value)
                if text in _TRUE or text in _FALSE:
                    return None
                return type_error(value, "a boolean")
            if type(value).__name__ == "bool_":  # numpy.bool_
                return None
            return type_error(value, "a boolean")

        return check_boolean

    if logical == "date" or logical == "timestamp":
        parse = _parse_date if logical == "date" else _parse_timestamp
        what = "a date (YYYY-MM-DD)" if logical == "date" else "an ISO 8601 timestamp"

        def check_temporal(value: Any) -> FieldError | None:
            if value is None:
                return missing(value)
            if type(value) is str and (not value or value.isspace()):
                return missing(value)
            if type(value) is float and value != value:
                return missing(value)
            x = parse(value)
            if x is None:
                return type_error(value, what)
            if lo is None and hi is None:
                return None
            if lo is not None and x < lo:
                return FieldError(
                    name, "minimum", f"{name}={value!r} is before the minimum {lo.isoformat()}", value
                )
            if hi is not None and x > hi:
                return FieldError(
                    name, "maximum", f"{name}={value!r} is after the maximum {hi.isoformat()}", value
                )
            return None

        return check_temporal

    def check_any(value: Any) -> FieldError | None:
        if value is None or (type(value) is float and value != value):
            return missing(value)
        return None

    return check_any


# -------------------------------------------------------------------- vectorised checks


def _examples(values: Any) -> list:
    """Up to MAX_EXAMPLES distinct values, as plain Python objects, in order of appearance."""
    seen: list = []
    keys: set = set()
    for v in values:
        v = _jsonable(v)
        key = repr(v)
        if key in keys:
            continue
        keys.add(key)
        seen.append(v)
        if len(seen) >= MAX_EXAMPLES:
            break
    return seen


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    item = getattr(v, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    iso = getattr(v, "isoformat", None)
    if callable(iso):
        return iso()
    return str(v)


def _null_mask(series: Any) -> Any:
    mask = series.isna()
    if series.dtype == object or str(series.dtype) in {"str", "string"}:
        text = series.where(~mask, "").astype(str)
        mask = mask | (text.str.strip() == "")
    return mask


def _check_series(rule: ColumnRule, s: Any, total: int) -> list[Violation]:
    import numpy as np
    import pandas as pd

    name = rule.name
    out: list[Violation] = []
    null = _null_mask(s)
    n_null = int(null.sum())
    rows = np.flatnonzero(null.to_numpy())
    if rule.required and n_null:
        out.append(
            Violation(
                name,
                "required",
                n_null,
                [int(i) for i in rows[:MAX_EXAMPLES]],
                f"{n_null} null values in a required column (examples are row numbers)",
            )
        )
    if rule.null_limit is not None and total:
        measured = rule.null_limit.measure(n_null, total)
        if not rule.null_limit.passes(measured) and not (rule.required and rule.null_limit.expected == 0):
            unit = "%" if rule.null_limit.unit == "percent" else " rows"
            shown = f"{measured:.1f}" if rule.null_limit.unit == "percent" else str(n_null)
            out.append(
                Violation(
                    name,
                    "null_share",
                    n_null,
                    [int(i) for i in rows[:MAX_EXAMPLES]],
                    f"{shown}{unit} nulls; the contract wants {rule.null_limit.describe()} "
                    "(examples are row numbers)",
                )
            )

    present = s[~null]
    if len(present) == 0:
        return out
    invalid = pd.Series(False, index=present.index)  # rows breaking an invalidValues rule
    logical = rule.logical_type

    def add(rule_name: str, mask: Any, message: str, values: Any = None) -> None:
        count = int(mask.sum())
        if count:
            shown = present[mask] if values is None else values[mask]
            out.append(
                Violation(name, rule_name, count, _examples(shown), message.replace("{count}", str(count)))
            )

    if logical in {"number", "integer"}:
        if pd.api.types.is_bool_dtype(present.dtype):
            add(
                "type", pd.Series(True, index=present.index), f"{{count}} values are booleans, not {logical}s"
            )
            return out
        nums = pd.to_numeric(present, errors="coerce").astype("float64")
        bad_type = nums.isna()
        finite = np.isfinite(nums.to_numpy())
        not_finite = pd.Series(~finite, index=present.index) & ~bad_type
        if logical == "integer":
            frac = pd.Series(False, index=present.index)
            frac[finite] = (nums[finite] % 1) != 0
            bad_type = bad_type | frac
        add("type", bad_type, f"{{count}} values are not {'integers' if logical == 'integer' else 'numbers'}")
        add("not_finite", not_finite, "{count} values are not finite numbers")
        ok = ~(bad_type | not_finite)
        if rule.minimum is not None:
            m = ok & (nums < rule.minimum)
            add("minimum", m, f"{{count}} values below the minimum {rule.minimum}")
        if rule.maximum is not None:
            m = ok & (nums > rule.maximum)
            add("maximum", m, f"{{count}} values above the maximum {rule.maximum}")
        if rule.allowed is not None:
            m = ok & ~nums.isin([float(v) for v in rule.allowed if isinstance(v, (int, float))])
            add("allowed_values", m, f"{{count}} values not in: {_show(rule.allowed_sorted)}")
            invalid |= m
    elif logical == "string":
        text = present.astype(str)
        if rule.allowed is not None:
            m = ~text.isin(list(rule.allowed))
            add("allowed_values", m, f"{{count}} values not in: {_show(rule.allowed_sorted)}")
            invalid |= m
        if rule.min_length is not None:
            m = text.str.len() < rule.min_length
            add("min_length", m, f"{{count}} values shorter than {rule.min_length} characters")
        if rule.max_length is not None:
            m = text.str.len() > rule.max_length
            add("max_length", m, f"{{count}} values longer than {rule.max_length} characters")
        if rule.pattern is not None:
            m = ~text.str.contains(rule.pattern, regex=True)
            add("pattern", m, f"{{count}} values do not match {rule.pattern}")
            invalid |= m
    elif logical == "boolean":
        if not pd.api.types.is_bool_dtype(present.dtype):
            lowered = present.astype(str).str.strip().str.lower()
            m = ~lowered.isin(list(_TRUE | _FALSE))
            add("type", m, "{count} values are not booleans")
    elif logical in {"date", "timestamp"}:
        if pd.api.types.is_datetime64_any_dtype(present.dtype):
            when = present
            if getattr(present.dtype, "tz", None) is not None:
                when = present.dt.tz_convert("UTC").dt.tz_localize(None)
        else:
            when = pd.to_datetime(
                present.astype(str).str.strip(), errors="coerce", format="ISO8601", utc=True
            )
            when = when.dt.tz_localize(None)
        bad_type = when.isna()
        add("type", bad_type, f"{{count}} values are not {'dates' if logical == 'date' else 'timestamps'}")
        compare = when.dt.normalize() if logical == "date" else when
        for bound, rule_name, word in (
            (rule.minimum, "minimum", "before"),
            (rule.maximum, "maximum", "after"),
        ):
            if bound is None:
                continue
            b = pd.Timestamp(bound)
            m = ~bad_type & ((compare < b) if rule_name == "minimum" else (compare > b))
            add(rule_name, m, f"{{count}} values {word} the {rule_name} {bound.isoformat()}")

    if rule.invalid_limit is not None and rule.invalid_limit.expected != 0:
        # A tolerated number/share of invalid values: report only when the threshold is broken,
        # replacing the allowed-values/pattern findings above (which assume zero tolerance).
        n_invalid = int(invalid.sum())
        out = [v for v in out if v.rule not in {"allowed_values", "pattern"}]
        measured = rule.invalid_limit.measure(n_invalid, total)
        if n_invalid and not rule.invalid_limit.passes(measured):
            out.append(
                Violation(
                    name,
                    "invalid_share",
                    n_invalid,
                    _examples(present[invalid]),
                    f"{n_invalid} invalid values; the contract wants {rule.invalid_limit.describe()}",
                )
            )

    if rule.unique or rule.duplicate_limit is not None:
        dup = (
            present.astype(str).duplicated(keep="first") if present.dtype == object else present.duplicated()
        )
        n_dup = int(dup.sum())
        if rule.unique and n_dup:
            out.append(
                Violation(
                    name,
                    "unique",
                    n_dup,
                    _examples(present[dup]),
                    f"{n_dup} duplicated values in a unique column",
                )
            )
        elif rule.duplicate_limit is not None:
            measured = rule.duplicate_limit.measure(n_dup, total)
            if not rule.duplicate_limit.passes(measured):
                out.append(
                    Violation(
                        name,
                        "duplicate_share",
                        n_dup,
                        _examples(present[dup]),
                        f"{n_dup} duplicated values; the contract wants {rule.duplicate_limit.describe()}",
                    )
                )
    return out


# -------------------------------------------------------------------- reading data files

_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def read_table(path: str | Path) -> Any:
    """Read CSV/TSV (delimiter sniffed, encoding fallback), Parquet, JSON (lines) or Excel."""
    import csv

    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".bz2", ".xz", ".zip", ".zst"}:
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    if kind in {".xlsx", ".xlsm", ".xls"}:
        return pd.read_excel(path)
    if kind in {".jsonl", ".ndjson"}:
        return pd.read_json(path, lines=True)
    if kind == ".json":
        try:
            return pd.read_json(path)
        except ValueError:
            return pd.read_json(path, lines=True)
    with open(path, "rb") as fh:
        raw = fh.read(64 * 1024)
    last: Exception | None = None
    for encoding in _ENCODINGS:
        try:
            sample = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            try:  # the sample may end inside a multi-byte character
                sample = raw[: max(exc.start, len(raw) - 4)].decode(encoding)
            except UnicodeDecodeError as exc2:
                last = exc2
                continue
        sep = "\t" if kind in {".tsv", ".tab"} else ","
        try:
            lines = [ln for ln in sample.splitlines()[:200] if ln.strip()]
            sep = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
        except csv.Error:
            pass
        try:
            return pd.read_csv(path, sep=sep, encoding=encoding, low_memory=False)
        except UnicodeDecodeError as exc:
            last = exc
    raise last or ValueError(f"cannot decode {path}")


# -------------------------------------------------------------------- the check-data command


def _default_contract_path() -> Path:
    from . import settings  # lazily: only the command needs the project settings

    path = getattr(settings, "CONTRACT_PATH", None)
    if path is None:
        path = settings.Settings.load().contract_path
    return Path(path)


def check_data_main(path: str, *, as_json: bool, contract_path: str | Path | None = None) -> int:
    """Check a data file against the contract; print a report (or one JSON object).

    Returns 0 when every rule holds, 1 when some rule is broken, 2 when the data or the
    contract cannot be read.
    """
    cpath = Path(contract_path) if contract_path is not None else _default_contract_path()

    def fail(message: str) -> int:
        if as_json:
            print(json.dumps({"file": str(path), "contract": str(cpath), "ok": False, "error": message}))
        else:
            print(f"check-data: error: {message}", file=sys.stderr)
        return 2

    try:
        contract = Contract.load(cpath)
    except ContractError as exc:
        return fail(str(exc))
    try:
        df = read_table(path)
    except Exception as exc:  # any reader failure is a "cannot read" for the user
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return fail(f"cannot read data file {path}: {reason}")

    violations = contract.check_dataset(df)
    ok = not violations
    if as_json:
        print(
            json.dumps(
                {
                    "file": str(path),
                    "contract": str(cpath),
                    "ok": ok,
                    "rows": int(len(df)),
                    "columns": int(df.shape[1]),
                    "violations": [v.as_dict() for v in violations],
                },
                ensure_ascii=False,
            )
        )
        return 0 if ok else 1

    print(f"check-data: {path} against {cpath}")
    print(f"{len(df)} rows, {df.shape[1]} columns, {len(contract.columns)} columns in the contract")
    if ok:
        print("OK: every rule of the contract holds.")
        return 0
    width = max(len(v.column) for v in violations)
    rule_width = max(len(v.rule) for v in violations)
    print(f"{len(violations)} rule(s) broken:")
    for v in violations:
        examples = f"  e.g. {', '.join(repr(_jsonable(e)) for e in v.examples)}" if v.examples else ""
        print(f"  {v.column:<{width}}  {v.rule:<{rule_width}}  {v.count:>7}  {v.message}{examples}")
    if contract.status == "draft":
        print("The contract is a draft inferred from the training data: fix the data or edit the contract.")
    return 1
