"""Batch rows -> checked records -> predictions: the one row path of `predict`, for pandas and for Spark.

A file's cells are turned into the values a JSON request would carry (schema.jsonable) and checked
with the service's own checks (`RequestSchema.validate`: the model's dtypes for every column, the
data contract's row rules for the data file's columns). A row that breaks one is not scored: it goes
to the rejects with `reject_rule`, `reject_column` and `reject_message` (several errors of one row
joined with "; ", in the schema's column order). The valid rows are cast to the training dtypes
(`RequestSchema.frame`) and scored by the Bundle, so a row gets the prediction `/predict` gives it.

The pandas engine (batch.py) calls `Checker.split` on the whole file; the Spark engine
(spark_scoring.py) calls `Checker.annotate` on each partition (mapInPandas) and `Checker.frame` in
the model UDF: the same code on both.

One thing differs from a JSON request: in a file, a number is spelled as text when its column holds
one bad cell (pandas reads such a column as text). A text cell of a numeric column that reads as a
number (with the reader's `decimal` and `thousands`) is that number; any other text is a type error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import settings as S

REJECT_COLUMNS = ("reject_rule", "reject_column", "reject_message")
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def load_contract(settings: S.Settings):
    """The data contract, or None when the project has none (then the schema's type checks still run).

    A contract that is there but cannot be read stops the run (exit 2): batch scoring never goes on
    without the rules it was asked to apply.
    """
    if not settings.contract_path.is_file():
        import logging

        logging.getLogger(__name__).warning("no contract at %s; rows get type checks only", settings.contract_path)
        return None
    from .check_data import load_contract as load

    return load(settings.contract_path)


def contract_text(contract) -> str | None:
    """The contract as text (what a Spark executor rebuilds it from)."""
    if contract is None or contract.path is None:
        return None
    return contract.path.read_text(encoding="utf-8")


class Checker:
    """The service's row checks and dtype casting, for DataFrame batches read from a file or a table."""

    def __init__(self, schema, contract=None, options: Mapping[str, Any] | None = None) -> None:
        self.schema = schema
        self.contract = contract
        opts = dict(options or {})
        self.decimal = str(opts.get("decimal") or ".")
        self.thousands = str(opts.get("thousands") or "")
        self.numeric = {c.name: c.kind for c in schema.columns if c.kind in ("integer", "number")}
        schema.validate([], contract)  # compile the checks once

    @classmethod
    def build(cls, schema_dict: dict, contract_yaml: str | None, options: Mapping[str, Any] | None) -> Checker:
        """Rebuild a Checker from plain data (on a Spark executor)."""
        from .schema import RequestSchema

        contract = None
        if contract_yaml is not None:
            import yaml

            from .contract import Contract

            contract = Contract.from_dict(yaml.safe_load(contract_yaml))
        return cls(RequestSchema.from_dict(schema_dict), contract, options)

    def missing_columns(self, columns) -> list[str]:
        have = {str(c) for c in columns}
        return [n for n in self.schema.names if n not in have]

    def records(self, df) -> list[dict[str, Any]]:
        """The model's columns of ``df`` as JSON-like records (numeric text read as numbers)."""
        from .schema import jsonable

        numeric = {n: k for n, k in self.numeric.items() if n in df.columns}
        rows = df[self.schema.names].to_dict("records")
        out = []
        for row in rows:
            rec = {k: jsonable(v) for k, v in row.items()}
            for name, kind in numeric.items():
                value = rec.get(name)
                if type(value) is str:
                    rec[name] = self._number(value, kind)
            out.append(rec)
        return out

    def _number(self, text: str, kind: str) -> Any:
        t = text.strip()
        if self.thousands:
            t = t.replace(self.thousands, "")
        if self.decimal != ".":
            t = t.replace(self.decimal, ".")
        if _INTEGER.fullmatch(t):
            return int(t)
        if _NUMBER.fullmatch(t):
            return float(t)
        return text  # not a number: the type check says so

    def errors(self, records: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
        """Each invalid record's errors, by its position."""
        by_row: dict[int, list[dict[str, Any]]] = {}
        for e in self.schema.validate(records, self.contract):
            by_row.setdefault(int(e["row"]), []).append(e)
        return by_row

    @staticmethod
    def reasons(errors: list[dict[str, Any]]) -> tuple[str, str, str]:
        """(reject_rule, reject_column, reject_message) of one row's errors."""
        return tuple("; ".join(str(e[key]) for e in errors) for key in ("rule", "column", "message"))  # type: ignore[return-value]

    def split(self, df):
        """(valid rows, their records, rejected rows with the REJECT_COLUMNS) of a whole DataFrame."""
        records = self.records(df)
        bad = self.errors(records)
        keep = [i for i in range(len(records)) if i not in bad]
        valid = df.iloc[keep]
        rejects = df.iloc[sorted(bad)].copy()
        reasons = [self.reasons(bad[i]) for i in sorted(bad)]
        for j, name in enumerate(REJECT_COLUMNS):
            rejects[name] = [r[j] for r in reasons]
        return valid, [records[i] for i in keep], rejects

    def annotate(self, df):
        """``df`` with the REJECT_COLUMNS added (None on the valid rows): one Spark partition's check."""
        bad = self.errors(self.records(df))
        out = df.copy()
        reasons = [self.reasons(bad[i]) if i in bad else (None, None, None) for i in range(len(df))]
        for j, name in enumerate(REJECT_COLUMNS):
            out[name] = [r[j] for r in reasons]
        return out

    def frame(self, df):
        """The model's input frame for valid rows of ``df``, with the training dtypes."""
        return self.schema.frame(self.records(df))


def predict(bundle, frame) -> tuple[Any, Any]:
    """(predictions, P(positive class) for a binary classifier or None) of a model input frame."""
    if len(frame) == 0:
        import numpy as np

        return np.array([]), (np.array([], dtype=float) if binary(bundle) else None)
    preds, proba = bundle.predict(frame)
    if proba is not None and proba.shape[1] == 2:
        return preds, proba[:, 1]
    return preds, None


def binary(bundle) -> bool:
    """The model gives a probability column (as batch.py and the service do for two classes)."""
    if bundle.flavor == "statsmodels":
        return bool(bundle.has_proba)
    return bool(bundle.has_proba and bundle.classes is not None and len(bundle.classes) == 2)
