"""The contract's rules on a whole table, vectorised with pandas (``Contract.check_dataset``).

Each broken (column, rule) is reported once with a count and up to 5 example values (row numbers
for null rules). Nulls are what the reader produced as missing (``isna``), as in ``rules.py``.
"""

from __future__ import annotations

from typing import Any

from .rules import FALSE_TEXT, MAX_EXAMPLES, TRUE_TEXT, ColumnRule, Violation, jsonable, show


def _examples(values: Any) -> list:
    """Up to MAX_EXAMPLES distinct values, as plain Python objects, in order of appearance."""
    seen: list = []
    keys: set = set()
    for v in values:
        v = jsonable(v)
        key = repr(v)
        if key in keys:
            continue
        keys.add(key)
        seen.append(v)
        if len(seen) >= MAX_EXAMPLES:
            break
    return seen


def _null_mask(series: Any) -> Any:
    """Missing values as the reader produced them; a blank string is a value."""
    return series.isna()


def check_series(rule: ColumnRule, s: Any, total: int) -> list[Violation]:
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
            add("allowed_values", m, f"{{count}} values not in: {show(rule.allowed_sorted)}")
            invalid |= m
    elif logical == "string":
        text = present.astype(str)
        if rule.allowed is not None:
            m = ~text.isin(list(rule.allowed))
            add("allowed_values", m, f"{{count}} values not in: {show(rule.allowed_sorted)}")
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
            m = ~lowered.isin(list(TRUE_TEXT | FALSE_TEXT))
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


