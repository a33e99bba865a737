"""The contract's rules as data (ColumnRule, Threshold) and the per-value checks compiled from them.

A check runs on every prediction request (`Contract.validate_record`): pure Python, compiled once per
column when the contract loads. Null-like values are those the project's reader produces as missing
(`tables.is_missing`: None, NaN, NaT, NA); an empty or blank string is a value, so it fails a number,
boolean or date column's type rule and is checked like any other string in a string column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

DATASET = "*"  # Violation.column for dataset-level rules
MAX_EXAMPLES = 5
TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_TEXT = frozenset({"false", "f", "no", "n", "0", "0.0"})
_INF = float("inf")
OPERATORS = (
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
            "examples": [jsonable(v) for v in self.examples],
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



def jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    item = getattr(v, "item", None)  # numpy scalars
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    iso = getattr(v, "isoformat", None)
    if callable(iso):
        return iso()
    return str(v)


def parse_date(value: Any) -> date | None:
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


def parse_timestamp(value: Any) -> datetime | None:
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


def show(values: tuple, limit: int = 8) -> str:
    shown = ", ".join(values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def compile_check(rule: ColumnRule) -> Callable[[Any], FieldError | None]:
    """Build the per-value check for one column (the hot path of validate_record)."""
    name = rule.name
    logical = rule.logical_type
    required = rule.required
    lo, hi = rule.minimum, rule.maximum
    allowed = rule.allowed
    allowed_text = show(rule.allowed_sorted)
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
            elif t is bool or t is str or isinstance(value, (list, dict, tuple, set, bytes)):
                return type_error(value, what)  # a JSON string is not a number, even "3.5"
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                x = value  # numpy scalars and other int/float subclasses
            else:
                if type(value).__name__ == "bool_":
                    return type_error(value, what)
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
                x = value  # "" and " " are values: the reader keeps them as strings too
            elif value is None:
                return missing(value)
            elif t is float and value != value:
                return missing(value)
            elif isinstance(value, (list, dict, tuple, set, bytes)):
                return type_error(value, "a string")
            else:
                x = str(value)  # a number sent for a text column is taken as its text
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
            if type(value).__name__ == "bool_":  # numpy.bool_
                return None
            return type_error(value, "a boolean")

        return check_boolean

    if logical == "date" or logical == "timestamp":
        parse = parse_date if logical == "date" else parse_timestamp
        what = "a date (YYYY-MM-DD)" if logical == "date" else "an ISO 8601 timestamp"

        def check_temporal(value: Any) -> FieldError | None:
            if value is None:
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


