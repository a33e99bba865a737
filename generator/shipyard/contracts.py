"""Data contracts: infer an ODCS v3.1.0 contract from a table, dump and validate it.

Tables are read by :mod:`shipyard.datafiles`, that is by the generated project's own reader.

The contract is a *draft* (``status: draft``) describing what the training data looked like
when ``shipyard adopt`` ran. It is written to ``contracts/<dataset>.odcs.yaml`` in the generated
project, where ``src/<pkg>/contract.py`` enforces it (row-level rules on every request,
dataset-level rules in CI).

Shape of an inferred contract (ODCS v3.1.0)::

    apiVersion: v3.1.0
    kind: DataContract
    id: <uuid5 of the dataset name - stable, so re-adopting gives identical bytes>
    name: <dataset>
    version: 0.1.0
    status: draft
    description: {purpose, usage, limitations}      # limitations says "inferred, review it"
    tags: [shipyard, inferred]
    team: {name: <dataset> owners, members: [{username: <owner_email>, role: owner}]}
    schema:
      - name: <dataset>
        physicalName: <data path>
        physicalType: file
        logicalType: object
        quality: [{metric: rowCount, mustBeGreaterOrEqualTo: <half the rows seen>}]
        properties:                                  # one per column, in column order
          - name: <column>
            physicalType: bigint|double|varchar|boolean|date|timestamp_ntz|timestamp_tz
            logicalType: string|integer|number|boolean|date|timestamp
            logicalTypeOptions: {minimum, maximum}   # numbers and dates (not id columns)
            required: true                           # no nulls seen
            unique: true                             # all distinct and named/shaped like an id
            tags: [target]                           # only on the target column
            quality:
              - {metric: nullValues, mustBeLessOrEqualTo: <pct>, unit: percent}   # nullable cols
              - {metric: invalidValues, arguments: {validValues: [...]}, mustBe: 0}  # categoricals
    customProperties: [{property: inferredBy, value: shipyard}, {property: targetColumn, ...}]

The target column is marked with ``tags: [target]`` on its property (read back by the
runtime as ``Contract.target``) and repeated as the ``targetColumn`` custom property.

pandas is imported inside the functions that need it. Nothing here prints.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import TYPE_CHECKING, Any

from .errors import InputFileError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ODCS_API_VERSION = "v3.1.0"
#: A string column with at most this many distinct values gets an allowed-values rule.
MAX_CATEGORIES = 20
#: The inferred ``rowCount`` floor is this fraction of the rows seen.
ROW_COUNT_FRACTION = 0.5
TARGET_TAG = "target"

_ID_NAME = re.compile(
    r"(?i:(^|[\s_.\-])(id|uuid|guid|key|identifier)$|^(id|uuid|guid)[\s_.\-])"  # row_id, "Customer ID", id_x
    r"|[a-z0-9](Id|ID)$"  # camelCase: customerId, orderID
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


# --------------------------------------------------------------------------------------------
# Inference
# --------------------------------------------------------------------------------------------


def contract_id(dataset_name: str) -> str:
    """The contract id: a UUID5 of the dataset name, the same on every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"shipyard:dataset:{dataset_name}"))


#: Reader options under which DuckDB's own CSV sniffing (what `datacontract test` uses) reads a file
#: the way pandas does with the same options; any other option means datacontract reads a snapshot.
_DUCKDB_SAFE_OPTIONS = {"format", "sep", "delimiter", "encoding", "parse_dates", "low_memory", "engine"}
# DuckDB's own latin-1 decoder refuses real cp1252/latin-1 files ("File is not latin-1 encoded"): those
# are snapshotted too.
_DUCKDB_ENCODINGS = {"utf-8": "UTF-8", "utf8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16"}
_MADE_UP_NAME = re.compile(r"^Unnamed: \d+$|\.\d+$")


def snapshot_path(dataset_name: str) -> str:
    """Where the project writes the training table as Parquet for datacontract-cli, when it must."""
    return f"build/contract/{dataset_name}.parquet"


def datacontract_reads_directly(read_options: dict[str, Any], columns: tuple[str, ...] | list[str] = ()) -> bool:
    """Whether `datacontract test` (DuckDB) reads the file itself as the project's reader does.

    CSV with only a separator, a UTF-8 or UTF-16 encoding and dates; Parquet; JSON. Anything else
    (decimal commas, a preamble, `names=`, Excel, latin-1, `na_values`, pandas-made column names,
    ...) makes the project write a Parquet snapshot for it (`check-data --snapshot`).
    """
    fmt = read_options.get("format", "csv")
    keys = set(read_options) - {"format"}
    if any(_MADE_UP_NAME.search(str(c)) for c in columns):
        return False  # pandas named an empty or repeated header ("Unnamed: 3", "price.1"); DuckDB names it otherwise
    if fmt == "csv":
        encoding = str(read_options.get("encoding") or "utf-8").lower()
        return keys <= _DUCKDB_SAFE_OPTIONS and encoding in _DUCKDB_ENCODINGS
    if fmt == "parquet":
        return not keys
    if fmt == "json":
        return keys <= {"lines"}
    return False


def server_entry(data_path: str, dataset_name: str, read_options: dict[str, Any],
                 columns: list[str] | None = None) -> dict[str, Any]:
    """The contract's one ``servers`` entry: the training file, or its Parquet snapshot."""
    if datacontract_reads_directly(read_options, columns or []):
        fmt = read_options.get("format", "csv")
        server: dict[str, Any] = {"server": "training-data", "type": "local", "path": data_path,
                                  "format": {"csv": "csv", "parquet": "parquet", "json": "json"}[fmt]}
        if fmt == "json" and read_options.get("lines"):
            server["delimiter"] = "new_line"
        encoding = str(read_options.get("encoding") or "").lower()
        if encoding and _DUCKDB_ENCODINGS.get(encoding, "UTF-8") != "UTF-8":
            server["encoding"] = _DUCKDB_ENCODINGS[encoding]
        server["description"] = (f"The training data, read by datacontract-cli itself: run "
                                 f"`datacontract test contracts/{dataset_name}.odcs.yaml` from the project root.")
        return server
    return {
        "server": "training-data", "type": "local", "path": snapshot_path(dataset_name), "format": "parquet",
        "description": (f"{data_path} as the project reads it, as Parquet: datacontract-cli cannot read the file "
                        "itself the way the project does. `make contract-test` writes it (`check-data --snapshot`) "
                        "and runs `datacontract test`."),
    }


def infer_contract(
    df: pd.DataFrame,
    *,
    dataset_name: str,
    data_path: str,
    owner_email: str,
    target_column: str | None,
    description: str = "",
    read_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Infer a draft ODCS v3.1.0 data contract from ``df`` (see the module docstring)."""
    names = [str(c) for c in df.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputFileError(
            f"Data file {data_path} has duplicate column names: {', '.join(dupes)}",
            hint="give every column a distinct name",
            path=str(data_path),
        )
    if len(df) == 0:
        raise InputFileError(
            f"Data file {data_path} has no rows", hint="use a file with data", path=str(data_path)
        )
    target = target_column or None
    if target is not None and target not in names:
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        raise InputFileError(
            f"Target column {target!r} is not a column of {data_path}",
            hint=f"columns are: {shown}",
            path=str(data_path),
        )

    n_rows = int(len(df))
    truncated = bool(df.attrs.get("truncated", False))
    properties = [
        _infer_property(name, df.iloc[:, i], n_rows, is_target=(name == target), sampled=truncated)
        for i, name in enumerate(names)
    ]

    if truncated:
        row_rule = {
            "metric": "rowCount",
            "mustBeGreaterThan": 0,
            "description": "The dataset must not be empty (inferred by Shipyard from a sample).",
            "dimension": "completeness",
        }
    else:
        floor = max(1, math.floor(n_rows * ROW_COUNT_FRACTION))
        row_rule = {
            "metric": "rowCount",
            "mustBeGreaterOrEqualTo": floor,
            "description": (
                f"At least {floor} rows: half of the {n_rows} rows seen when the contract was inferred "
                "(catches truncated or partial files)."
            ),
            "dimension": "completeness",
        }

    server = server_entry(str(data_path), dataset_name, dict(read_options or {"format": "csv"}), names)
    seen = f"the first {n_rows} rows" if truncated else f"{n_rows} rows"
    note = (
        f"Inferred by Shipyard from {seen} of {data_path}: types, bounds, allowed values and null "
        "limits describe that data only. Draft - review every rule, then set status to active."
    )
    purpose = description.strip() or f"Training data of the model adopted with Shipyard ({dataset_name})."
    contract: dict[str, Any] = {
        "apiVersion": ODCS_API_VERSION,
        "kind": "DataContract",
        "id": contract_id(dataset_name),
        "name": dataset_name,
        "version": "0.1.0",
        "status": "draft",
        "description": {
            "purpose": purpose,
            "usage": (
                "Row-level rules (types, required, bounds, allowed values) are checked on every "
                "prediction request; dataset-level rules (unique, null limits, row count) run in CI "
                "with `check-data` on the training data."
            ),
            "limitations": note,
        },
        "tags": ["inferred", "shipyard"],
        "team": {
            "name": f"{dataset_name} owners",
            "members": [{"username": owner_email, "role": "owner"}],
        },
        "servers": [server],
        "schema": [
            {
                "name": dataset_name,
                # what datacontract-cli reads: the file itself, or its Parquet snapshot (see server_entry)
                "physicalName": server["path"],
                "physicalType": "file",
                "logicalType": "object",
                "description": "The training data. Inferred by Shipyard: review before use.",
                "properties": properties,
                "quality": [row_rule],
            }
        ],
        "customProperties": [{"property": "inferredBy", "value": "shipyard"}],
    }
    if target is not None:
        contract["customProperties"].append({"property": "targetColumn", "value": target})
    return contract


def _infer_property(name: str, s: pd.Series, n_rows: int, *, is_target: bool, sampled: bool = False
                    ) -> dict[str, Any]:
    """One column's rules. From a sample of a bigger file (``sampled``), only what the rest of the file
    cannot contradict on the strength of the sample: the type (bounds, allowed values, required and
    unique describe the sample, and the full file would break them)."""
    import pandas as pd

    non_null = s.dropna()
    n_null = n_rows - int(len(non_null))
    logical, values, tz_aware = _logical_type(s, non_null)

    prop: dict[str, Any] = {
        "name": name,
        "physicalType": _physical_type(logical, tz_aware),
        "logicalType": logical,
    }
    required = n_null == 0 and not sampled
    unique = (
        not is_target
        and required
        and n_rows >= 2
        and logical in {"integer", "string"}
        and bool(non_null.is_unique)
        and _looks_like_id(name, logical, non_null)
    )

    options: dict[str, Any] = {}
    if len(non_null) and not unique and not sampled:
        if logical == "integer":
            options = {"minimum": int(values.min()), "maximum": int(values.max())}
        elif logical == "number":
            import numpy as np

            finite = values[np.isfinite(values.to_numpy(dtype="float64"))]
            if len(finite):
                options = {"minimum": _py_float(finite.min()), "maximum": _py_float(finite.max())}
        elif logical in {"date", "timestamp"}:
            lo, hi = values.min(), values.max()
            if logical == "date":
                options = {"minimum": lo.date().isoformat(), "maximum": hi.date().isoformat()}
            else:
                options = {"minimum": lo.isoformat(), "maximum": hi.isoformat()}
                if tz_aware:
                    options["timezone"] = True
    if options:
        prop["logicalTypeOptions"] = options
    prop["required"] = required
    if unique:
        prop["unique"] = True
    if is_target:
        prop["tags"] = [TARGET_TAG]

    quality: list[dict[str, Any]] = []
    if n_null and not sampled:
        observed = 100.0 * n_null / n_rows
        limit = min(100, math.ceil(observed + max(5.0, observed * 0.5)))
        if limit < 100:
            quality.append(
                {
                    "metric": "nullValues",
                    "mustBeLessOrEqualTo": limit,
                    "unit": "percent",
                    "description": f"At most {limit}% nulls ({observed:.1f}% seen when inferred).",
                    "dimension": "completeness",
                }
            )
    if logical == "string" and not unique and len(non_null) and not sampled:
        distinct = pd.unique(non_null.astype(str))
        if len(distinct) <= MAX_CATEGORIES and 2 * len(distinct) <= len(non_null):
            quality.append(
                {
                    "metric": "invalidValues",
                    "arguments": {"validValues": sorted(str(v) for v in distinct)},
                    "mustBe": 0,
                    "description": "Only the categories seen when the contract was inferred.",
                    "dimension": "conformity",
                }
            )
    if quality:
        prop["quality"] = quality
    return prop


#: The SQL type of a logical type, as data tools read ``physicalType`` (datacontract-cli's DuckDB among them).
_PHYSICAL = {"integer": "bigint", "number": "double", "string": "varchar", "boolean": "boolean", "date": "date",
             "timestamp": "timestamp_ntz"}


def _physical_type(logical: str, tz_aware: bool) -> str:
    return "timestamp_tz" if logical == "timestamp" and tz_aware else _PHYSICAL.get(logical, "varchar")


def _py_float(value: Any) -> float:
    return float(value)


def _logical_type(s: pd.Series, non_null: pd.Series) -> tuple[str, Any, bool]:
    """Return (logicalType, values used for bounds, whether timestamps carried a timezone).

    Timestamps are returned as naive UTC so bounds compare the same way at runtime.
    """
    import pandas as pd
    from pandas.api import types as ptypes

    dtype = s.dtype
    if ptypes.is_bool_dtype(dtype):
        return "boolean", non_null, False
    if ptypes.is_integer_dtype(dtype):
        return "integer", non_null, False
    if ptypes.is_float_dtype(dtype):
        return "number", non_null, False
    if ptypes.is_datetime64_any_dtype(dtype):
        values = non_null
        aware = getattr(dtype, "tz", None) is not None
        if aware:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        if not aware and len(values) and bool((values == values.dt.normalize()).all()):
            return "date", values, False
        return "timestamp", values, aware
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        if ptypes.is_integer_dtype(cats.dtype):
            return "integer", non_null.astype("int64"), False
        if ptypes.is_float_dtype(cats.dtype):
            return "number", non_null.astype("float64"), False
        return "string", non_null, False
    if len(non_null) == 0:
        return "string", non_null, False
    if ptypes.is_object_dtype(dtype) or ptypes.is_string_dtype(dtype):
        py_types = {type(v) for v in non_null}
        if py_types <= {bool} or all(isinstance(v, bool) or type(v).__name__ == "bool_" for v in non_null):
            return "boolean", non_null, False
        if py_types <= {str}:
            text = non_null.astype(str).str.strip()
            sample = pd.unique(text)
            if all(_ISO_DATE.match(v) for v in sample):
                parsed = pd.to_datetime(text, errors="coerce", format="%Y-%m-%d")
                if not parsed.isna().any():
                    return "date", parsed, False
            if all(_ISO_TIMESTAMP.match(v) for v in sample):
                parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
                if not parsed.isna().any():
                    aware = any(v.endswith("Z") or re.search(r"[+-]\d{2}:?\d{2}$", v) for v in sample)
                    return "timestamp", parsed.dt.tz_localize(None), bool(aware)
            return "string", non_null, False
        if py_types <= {int} or all(isinstance(v, int) and not isinstance(v, bool) for v in non_null):
            return "integer", pd.Series([int(v) for v in non_null]), False
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in non_null):
            return "number", pd.Series([float(v) for v in non_null]), False
    return "string", non_null, False


def _looks_like_id(name: str, logical: str, non_null: pd.Series) -> bool:
    if _ID_NAME.search(name.strip()):
        return True
    if logical == "string":
        sample = non_null.astype(str).head(1000)
        return bool(len(sample)) and all(_UUID.match(v) for v in sample)
    return False


# --------------------------------------------------------------------------------------------
# Dump and validate
# --------------------------------------------------------------------------------------------

_TOP_ORDER = [
    "apiVersion",
    "kind",
    "id",
    "name",
    "version",
    "status",
    "domain",
    "dataProduct",
    "tenant",
    "description",
    "tags",
    "team",
    "roles",
    "support",
    "servers",
    "schema",
    "slaProperties",
    "authoritativeDefinitions",
    "customProperties",
    "contractCreatedTs",
]
_ELEMENT_ORDER = [
    "id",
    "name",
    "physicalName",
    "physicalType",
    "logicalType",
    "logicalTypeOptions",
    "required",
    "unique",
    "primaryKey",
    "primaryKeyPosition",
    "businessName",
    "description",
    "tags",
    "properties",
    "quality",
    "customProperties",
]
_QUALITY_ORDER = [
    "id",
    "name",
    "type",
    "metric",
    "arguments",
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
    "unit",
    "description",
    "dimension",
    "severity",
]
_OTHER_ORDER = [
    "purpose", "usage", "limitations", "name", "members", "username", "role", "minimum", "maximum",
    "timezone", "validValues", "property", "value",
]  # fmt: skip
_ORDERS = {
    name: {k: i for i, k in enumerate(keys)}
    for name, keys in (
        ("top", _TOP_ORDER),
        ("element", _ELEMENT_ORDER),
        ("quality", _QUALITY_ORDER),
        ("other", _OTHER_ORDER),
    )
}
_CHILD_CONTEXT = {"schema": "element", "properties": "element", "quality": "quality"}


def _ordered(obj: Any, ctx: str = "top") -> Any:
    """Known ODCS keys in a fixed order per level, other keys after them in their given order."""
    if isinstance(obj, dict):
        rank = _ORDERS[ctx]
        keys = sorted(obj, key=lambda k: rank.get(k, len(rank)))
        return {k: _ordered(obj[k], _CHILD_CONTEXT.get(k, "other")) for k in keys}
    if isinstance(obj, (list, tuple)):
        return [_ordered(v, ctx) for v in obj]
    return obj


def dump_contract(contract: dict[str, Any]) -> str:
    """Serialise a contract as YAML: stable key order, unicode kept, no line wrapping."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _str)
    return yaml.dump(
        _ordered(contract),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100_000,
        indent=2,
    )


def _odcs_schema() -> dict[str, Any]:
    import json
    from importlib import resources

    text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate_contract(contract: dict[str, Any], version: str = ODCS_API_VERSION) -> list[str]:
    """Validate against the ODCS JSON schema shipped in ``open-data-contract-standard``.

    Returns readable error strings (``"<path>: <message>"``), empty when the contract is valid.
    The package ships one schema that accepts every ``apiVersion`` from v2.2.0 to v3.2.0;
    ``version`` is the ``apiVersion`` the contract must declare.
    """
    import jsonschema

    schema = _odcs_schema()
    errors: list[str] = []
    allowed = schema.get("properties", {}).get("apiVersion", {}).get("enum", [])
    if allowed and version not in allowed:
        errors.append(
            f"apiVersion: {version} is not an ODCS version this schema knows ({', '.join(allowed)})"
        )
    if not isinstance(contract, dict):
        return [f"<root>: a contract must be a mapping, got {type(contract).__name__}"]
    if contract.get("apiVersion") != version:
        errors.append(f"apiVersion: expected {version!r}, got {contract.get('apiVersion')!r}")

    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    found = []
    for err in validator.iter_errors(contract):
        where = _json_path(err.absolute_path)
        found.append(f"{where}: {err.message}")
    errors.extend(sorted(set(found)))
    return errors


def _json_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"
