"""The generated project's runtime contract (templates/.../src/{{package_name}}/contract.py and rules.py).

The runtime modules are plain Python (no Jinja): Shipyard loads them itself (shipyard.runtime), the
same code the project runs, and they are fed contracts inferred by ``shipyard.contracts``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from runtime_harness import make_project, show
from shipyard import contracts, datafiles
from shipyard.runtime import module

rt = module("contract")
N = 60


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
    df = datafiles.load_table(data)
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
    # integral floats, 0/1 for booleans, extra fields, nullable column missing/NaN
    record = dict(good_record(), age=41.0, row_id=7.0, vip=1, extra_field={"x": 1})
    record["score"] = float("nan")
    assert contract.validate_record(record, contract.features) == []
    record.pop("score")
    assert contract.validate_record(record, contract.features) == []
    # the target is not needed at serving time
    assert "label" not in good_record()


def test_a_json_string_is_not_a_number_and_a_blank_string_is_a_value(contract):
    """The rules mean what the reader produces: pandas reads "41" in a CSV as a number, JSON "41" is text."""
    errors = contract.validate_record(dict(good_record(), age="41", vip="yes", segment=""), contract.features)
    assert by_column(errors) == {"age": "type", "vip": "type", "segment": "allowed_values"}


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
        ("age", "", "type"),
        ("age", "41", "type"),
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


@pytest.fixture(scope="module")
def checked_project(tmp_path_factory):
    """A rendered project whose data is a ';' file with decimal commas, read with the notebook's options."""
    root = tmp_path_factory.mktemp("checkdata") / "check-demo"
    frame = make_frame()
    project = make_project(root, package="check_demo", df=frame, data_rel="data/train.csv", target="label",
                           model_variable="", read_options={"format": "csv", "sep": ";", "decimal": ","})
    return project, frame


def test_check_data_reads_the_training_data_with_the_projects_options(checked_project):
    project, _ = checked_project
    assert ";" in project.data_file.read_text(encoding="utf-8").splitlines()[1]
    done = project.run("check-data")
    assert done.returncode == 0, show(done)
    assert "OK" in done.stdout and f"{N} rows" in done.stdout


def test_check_data_violation_text_and_json(checked_project, tmp_path):
    project, frame = checked_project
    bad = frame.copy()
    bad.loc[[3, 4], "segment"] = "zzz"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False, sep=";", decimal=",")
    text = project.run("check-data", str(path))
    assert text.returncode == 1, show(text)
    assert "segment" in text.stdout and "allowed_values" in text.stdout and "'zzz'" in text.stdout
    done = project.run("check-data", str(path), "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)  # exactly one JSON object
    assert report["ok"] is False and report["rows"] == N
    assert report["violations"] == [{"column": "segment", "rule": "allowed_values", "count": 2,
                                     "examples": ["zzz"], "message": "2 values not in: a, b, c"}]


def test_check_data_unreadable_files_exit_2_with_one_line(checked_project, tmp_path):
    project, _ = checked_project
    missing = project.run("check-data", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert "nope.csv" in missing.stderr.splitlines()[0], show(missing)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"garbage")
    done = project.run("check-data", str(broken), "--json")
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["ok"] is False and "broken.parquet" in report["error"]
    other = project.run("check-data", "--contract", str(tmp_path / "no.yaml"))
    assert other.returncode == 2 and "no.yaml" in other.stderr


def test_check_data_snapshot_is_the_table_as_the_project_reads_it(checked_project, tmp_path):
    project, frame = checked_project
    out = tmp_path / "snap" / "train.parquet"
    done = project.run("check-data", "--snapshot", str(out))
    assert done.returncode == 0, show(done)
    snap = pd.read_parquet(out)
    assert list(snap.columns) == list(frame.columns)
    assert snap["score"].dtype == "float64" and snap["score"].dropna().round(4).tolist() == \
        frame["score"].dropna().round(4).tolist()


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
