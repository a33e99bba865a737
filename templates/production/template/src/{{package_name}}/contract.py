"""The data contract at runtime: the ODCS file in ``contracts/`` loaded as rules the project enforces.

* ``Contract.validate_record(record, columns)`` runs on every prediction request: the per-value
  checks of ``rules.py`` (type, required, finite, minimum/maximum, allowed values, length, pattern).
  Fields not in the contract are ignored.
* ``Contract.check_dataset(df)`` runs the same rules vectorised, plus the dataset-level ones
  (``unique``, null/invalid/duplicate shares, ``rowCount``), on a table read by ``tables.read_table``
  (see ``dataset_checks.py``); ``check_data.py`` is the ``check-data`` command around it.

Rule names (``FieldError.rule`` / ``Violation.rule``, also used as metric labels): ``required``,
``type``, ``not_finite``, ``minimum``, ``maximum``, ``allowed_values``, ``min_length``, ``max_length``,
``pattern``, ``unique``, ``null_share``, ``invalid_share``, ``duplicate_share``, ``row_count``,
``missing_column``. The target column is the property tagged ``target``; serving callers pass the
feature columns (``Contract.features``). Depends on PyYAML only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .rules import (
    DATASET,
    OPERATORS,
    ColumnRule,
    ContractError,
    FieldError,
    Threshold,
    Violation,
    compile_check,
    parse_date,
    parse_timestamp,
)

__all__ = ["ColumnRule", "Contract", "ContractError", "FieldError", "Violation"]

TARGET_TAG = "target"
_TYPES = frozenset({"string", "integer", "number", "boolean", "date", "timestamp"})


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
        from .dataset_checks import check_series
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
            out.extend(check_series(rule, series.reset_index(drop=True), total))
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
    for op in OPERATORS:
        if op in q:
            return Threshold(str(metric), op, q[op], str(q.get("unit") or "rows"))
    return None


def _bound(value: Any, logical: str, what: str, source: str, column: str) -> Any:
    if value is None:
        return None
    parsed: Any
    if logical in {"integer", "number"}:
        parsed = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    elif logical == "date":
        parsed = parse_date(value)
    elif logical == "timestamp":
        parsed = parse_timestamp(value)
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
    return dataclasses.replace(rule, check=compile_check(rule))
