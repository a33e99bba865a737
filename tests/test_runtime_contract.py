"""The generated project's runtime contract (templates/.../src/{{package_name}}/contract.py).

The file is plain Python (no Jinja), so it is imported straight from the template and fed
contracts inferred by ``shipyard.contracts``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shipyard import contracts

RUNTIME = (
    Path(__file__).resolve().parents[1] / "templates/production/template/src/{{package_name}}/contract.py"
)
N = 60


def _import(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


rt = _import(RUNTIME, "shipyard_runtime_contract")


def make_frame(n: int = N, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.uniform(0.0, 1.0, n).round(4)
    score[::6] = np.nan
    return pd.DataFrame(
        {
            "row_id": np.arange(1, n + 1),
            "age": rng.integers(20, 70, n),
            "score": score,
            "segment": rng.choice(["a", "b", "c"], n),
            "joined": pd.date_range("2022-01-01", periods=n, freq="7D").strftime("%Y-%m-%d"),
            "vip": rng.random(n) < 0.3,
            "Ünïcode col": rng.choice(["ja", "nein"], n),
            "label": rng.choice([0, 1], n),
        }
    )


@pytest.fixture()
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture()
def contract_file(tmp_path, frame) -> Path:
    data = tmp_path / "train.csv"
    frame.to_csv(data, index=False)
    df = contracts.load_table(data)
    inferred = contracts.infer_contract(
        df,
        dataset_name="train",
        data_path="data/train.csv",
        owner_email="o@example.com",
        target_column="label",
    )
    assert contracts.validate_contract(inferred) == []
    path = tmp_path / "train.odcs.yaml"
    path.write_text(contracts.dump_contract(inferred), encoding="utf-8")
    return path


@pytest.fixture()
def contract(contract_file):
    return rt.Contract.load(contract_file)


def good_record() -> dict:
    return {
        "row_id": 123456,  # ids have no bounds: new ids are fine
        "age": 33,
        "score": 0.5,
        "segment": "b",
        "joined": "2022-03-01",
        "vip": False,
        "Ünïcode col": "ja",
    }


def by_column(errors) -> dict[str, str]:
    return {e.column: e.rule for e in errors}


# ------------------------------------------------------------------------------- loading


def test_load_reads_columns_target_and_rules(contract, frame):
    assert list(contract.columns) == list(frame.columns)
    assert contract.target == "label"
    assert "label" not in contract.features and "Ünïcode col" in contract.features
    age = contract.columns["age"]
    assert (age.logical_type, age.required, age.minimum, age.maximum) == (
        "integer",
        True,
        int(frame.age.min()),
        int(frame.age.max()),
    )
    assert contract.columns["row_id"].unique is True
    assert contract.columns["segment"].allowed == frozenset({"a", "b", "c"})
    assert contract.columns["score"].required is False
    assert contract.columns["score"].null_limit.unit == "percent"
    assert contract.row_count and contract.row_count[0].expected == N // 2


def test_load_rejects_broken_contracts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: [", encoding="utf-8")
    with pytest.raises(rt.ContractError, match="bad.yaml"):
        rt.Contract.load(bad)
    bad.write_text("apiVersion: v3.1.0\n", encoding="utf-8")
    with pytest.raises(rt.ContractError, match="no schema"):
        rt.Contract.load(bad)
    with pytest.raises(rt.ContractError, match="cannot read"):
        rt.Contract.load(tmp_path / "missing.yaml")


# ------------------------------------------------------------------------------- records


def test_valid_records_pass(contract):
    assert contract.validate_record(good_record(), contract.features) == []
    assert contract.validate_record(good_record()) == []  # default: the features
    # coercible strings, integral floats, extra fields, nullable column missing/NaN
    record = dict(good_record(), age="41", row_id=7.0, vip="yes", extra_field={"x": 1})
    record["score"] = float("nan")
    assert contract.validate_record(record, contract.features) == []
    record.pop("score")
    assert contract.validate_record(record, contract.features) == []
    # the target is not needed at serving time
    assert "label" not in good_record()


def test_invalid_record_reports_each_field(contract, frame):
    record = {
        "row_id": None,
        "age": int(frame.age.max()) + 1,
        "score": float("inf"),
        "segment": "zzz",
        "joined": "not a date",
        "vip": "perhaps",
        # "Ünïcode col" missing: required
    }
    errors = contract.validate_record(record, contract.features)
    assert by_column(errors) == {
        "row_id": "required",
        "age": "maximum",
        "score": "not_finite",
        "segment": "allowed_values",
        "joined": "type",
        "vip": "type",
        "Ünïcode col": "required",
    }
    age_error = next(e for e in errors if e.column == "age")
    assert age_error.value == int(frame.age.max()) + 1
    assert "age" in age_error.message and str(int(frame.age.max())) in age_error.message
    seg = next(e for e in errors if e.column == "segment")
    assert "a, b, c" in seg.message


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("age", 19, "minimum"),
        ("age", 30.5, "type"),
        ("age", True, "type"),
        ("age", "forty", "type"),
        ("age", [1], "type"),
        ("age", float("nan"), "required"),
        ("age", "", "required"),
        ("score", -0.1, "minimum"),
        ("score", float("-inf"), "not_finite"),
        ("joined", "2021-12-31", "minimum"),
        ("joined", "2030-01-01", "maximum"),
        ("segment", "A", "allowed_values"),
        ("segment", None, "required"),
        ("vip", 2, "type"),
    ],
)
def test_single_field_rules(contract, field, value, rule):
    errors = contract.validate_record(dict(good_record(), **{field: value}), contract.features)
    assert [(e.column, e.rule) for e in errors] == [(field, rule)]


def test_columns_argument_limits_the_check(contract):
    record = dict(good_record(), age=-5, segment="zzz")
    assert by_column(contract.validate_record(record, ["age"])) == {"age": "minimum"}
    assert contract.validate_record(record, ["not_in_contract"]) == []
    # asking for the target checks it (it is required in training data)
    assert by_column(contract.validate_record(record, ["label"])) == {"label": "required"}


# ------------------------------------------------------------------------------- datasets


def test_clean_dataset_has_no_violations(contract, frame, contract_file):
    assert contract.check_dataset(frame) == []
    assert contract.check_dataset(pd.read_csv(contract_file.parent / "train.csv")) == []


def test_corrupted_dataset_names_column_rule_count_examples(contract, frame):
    bad = frame.copy()
    bad["age"] = bad["age"].astype("float64")
    bad.loc[[1, 2], "age"] = [500, 600]  # out of range
    bad.loc[5, "age"] = np.nan  # null in a required column
    bad.loc[[3, 4, 8], "segment"] = ["zzz", "yyy", "zzz"]  # unseen categories
    bad.loc[[10, 11], "row_id"] = bad.loc[0, "row_id"]  # duplicated ids
    bad.loc[:29, "score"] = np.nan  # far more nulls than the limit
    bad.loc[7, "joined"] = "yesterday"

    found = {(v.column, v.rule): v for v in contract.check_dataset(bad)}
    assert set(found) == {
        ("age", "maximum"),
        ("age", "required"),
        ("segment", "allowed_values"),
        ("row_id", "unique"),
        ("score", "null_share"),
        ("joined", "type"),
    }
    assert found["age", "maximum"].count == 2 and found["age", "maximum"].examples == [500.0, 600.0]
    assert found["age", "required"].count == 1 and found["age", "required"].examples == [5]  # row numbers
    seg = found["segment", "allowed_values"]
    assert seg.count == 3 and seg.examples == ["zzz", "yyy"]  # distinct examples
    assert found["row_id", "unique"].count == 2 and found["row_id", "unique"].examples == [1]
    assert found["score", "null_share"].count == int(bad["score"].isna().sum()) > 30
    assert found["joined", "type"].examples == ["yesterday"]
    assert all(v.message for v in found.values())


def test_examples_are_capped_and_dataset_rules(contract, frame):
    bad = frame.copy()
    bad["segment"] = [f"new{i}" for i in range(len(bad))]
    (v,) = [v for v in contract.check_dataset(bad) if v.column == "segment"]
    assert v.count == N and len(v.examples) == 5

    small = frame.head(5)
    violations = contract.check_dataset(small)
    assert [(v.column, v.rule, v.count) for v in violations] == [("*", "row_count", 5)]

    missing = frame.drop(columns=["vip"])
    assert [(v.column, v.rule) for v in contract.check_dataset(missing)] == [("vip", "missing_column")]


def test_tolerated_invalid_share_from_edited_contract(contract_file, frame):
    text = contract_file.read_text(encoding="utf-8")
    # a human relaxed the categories rule: up to 2 unseen values are fine
    edited = text.replace("      mustBe: 0\n", "      mustBeLessOrEqualTo: 2\n", 1)
    assert edited != text
    contract_file.write_text(edited, encoding="utf-8")
    contract = rt.Contract.load(contract_file)
    bad = frame.copy()
    bad.loc[[0, 1], "segment"] = "zzz"
    assert contract.check_dataset(bad) == []
    bad.loc[2, "segment"] = "zzz"
    (v,) = contract.check_dataset(bad)
    assert (v.column, v.rule, v.count, v.examples) == ("segment", "invalid_share", 3, ["zzz"])


# ------------------------------------------------------------------------------- check-data


def test_check_data_main_clean(tmp_path, contract_file, capsys):
    code = rt.check_data_main(
        str(contract_file.parent / "train.csv"), as_json=False, contract_path=contract_file
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "OK" in out and f"{N} rows" in out


def test_check_data_main_violation_text_and_json(tmp_path, contract_file, frame, capsys):
    bad = frame.copy()
    bad.loc[[3, 4], "segment"] = "zzz"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)

    assert rt.check_data_main(str(path), as_json=False, contract_path=contract_file) == 1
    out = capsys.readouterr().out
    assert "segment" in out and "allowed_values" in out and "'zzz'" in out

    assert rt.check_data_main(str(path), as_json=True, contract_path=contract_file) == 1
    report = json.loads(capsys.readouterr().out)  # exactly one JSON object
    assert report["ok"] is False and report["rows"] == N
    assert report["violations"] == [
        {
            "column": "segment",
            "rule": "allowed_values",
            "count": 2,
            "examples": ["zzz"],
            "message": "2 values not in: a, b, c",
        }
    ]

    assert (
        rt.check_data_main(str(contract_file.parent / "train.csv"), as_json=True, contract_path=contract_file)
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["violations"] == []


def test_check_data_main_unreadable(tmp_path, contract_file, capsys):
    missing = tmp_path / "nope.csv"
    assert rt.check_data_main(str(missing), as_json=False, contract_path=contract_file) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "nope.csv" in lines[0]

    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"garbage")
    assert rt.check_data_main(str(broken), as_json=True, contract_path=contract_file) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and "broken.parquet" in report["error"]

    assert rt.check_data_main(str(missing), as_json=False, contract_path=tmp_path / "no.yaml") == 2
    assert "no.yaml" in capsys.readouterr().err


def test_check_data_main_default_contract_from_settings(tmp_path, contract_file, frame, monkeypatch, capsys):
    """Inside a package, ``contract_path=None`` falls back to ``settings.CONTRACT_PATH``."""
    pkg = tmp_path / "pkgroot" / "demo_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "settings.py").write_text(
        f"from pathlib import Path\nCONTRACT_PATH = Path({str(contract_file)!r})\n"
    )
    shutil.copy(RUNTIME, pkg / "contract.py")
    monkeypatch.syspath_prepend(str(pkg.parent))
    from demo_pkg import contract as packaged

    assert packaged.check_data_main(str(contract_file.parent / "train.csv"), as_json=True) == 0
    assert json.loads(capsys.readouterr().out)["contract"] == str(contract_file)
    for name in [m for m in sys.modules if m.startswith("demo_pkg")]:
        monkeypatch.delitem(sys.modules, name)


def test_jsonable_examples_for_dates_and_numpy(contract, frame):
    bad = frame.copy()
    bad["joined"] = pd.to_datetime(bad["joined"])
    bad.loc[0, "joined"] = pd.Timestamp("2040-01-01")
    (v,) = contract.check_dataset(bad)
    assert (v.column, v.rule) == ("joined", "maximum")
    assert json.dumps(v.as_dict())  # examples serialise
    assert v.as_dict()["examples"] == ["2040-01-01T00:00:00"]
    assert not math.isnan(v.count)


def test_check_dataset_with_non_string_column_labels():
    df = pd.DataFrame({0: [1, 2, 3, 4], 1: ["x", "y", "x", "y"]})
    inferred = contracts.infer_contract(
        df, dataset_name="nums", data_path="n.csv", owner_email="o@example.com", target_column=None
    )
    contract = rt.Contract.from_dict(inferred)
    assert list(contract.columns) == ["0", "1"]
    assert contract.check_dataset(df) == []
    assert contract.validate_record({"0": 3, "1": "x"}) == []
    assert by_column(contract.validate_record({"0": 9, "1": "z"})) == {"0": "maximum", "1": "allowed_values"}
