"""shipyard.contracts: reading tables, inferring ODCS v3.1.0 contracts, dumping, validating."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
import yaml
from shipyard import contracts, datafiles
from shipyard.errors import InputFileError

N = 80


def make_frame(n: int = N, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(50_000, 10_000, n).round(2)
    income[::10] = np.nan  # 10% nulls
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "age": rng.integers(18, 90, n),
            "income": income,
            "plan": rng.choice(["basic", "pro", "enterprise"], n),
            "signup_date": pd.date_range("2023-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "last_seen": pd.date_range("2024-01-01 08:00", periods=n, freq="h"),
            "active": rng.random(n) < 0.5,
            "Stadt Größe": rng.choice(["Zürich", "Köln", "Malmö"], n),
            "comment": [f"free text number {i}" for i in range(n)],
            "churned": rng.choice(["yes", "no"], n),
        }
    )


def infer(df: pd.DataFrame, **kw) -> dict:
    args = dict(
        dataset_name="customers",
        data_path="data/customers.csv",
        owner_email="owner@example.com",
        target_column="churned",
    )
    args.update(kw)
    return contracts.infer_contract(df, **args)


def props_by_name(contract: dict) -> dict[str, dict]:
    return {p["name"]: p for p in contract["schema"][0]["properties"]}


def rules(prop: dict, metric: str) -> list[dict]:
    return [q for q in prop.get("quality", []) if q.get("metric") == metric]


# ------------------------------------------------------------------------------- inference


def test_fundamentals():
    c = infer(make_frame(), description="Customers of the shop.")
    assert c["apiVersion"] == "v3.1.0"
    assert c["kind"] == "DataContract"
    assert c["status"] == "draft"
    assert c["id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "shipyard:dataset:customers"))
    assert c["description"]["purpose"] == "Customers of the shop."
    assert "Inferred by Shipyard" in c["description"]["limitations"]
    assert "review" in c["description"]["limitations"]
    assert c["team"]["members"] == [{"username": "owner@example.com", "role": "owner"}]
    obj = c["schema"][0]
    assert obj["name"] == "customers"
    assert obj["physicalName"] == "data/customers.csv"
    assert [p["name"] for p in obj["properties"]] == list(make_frame().columns)  # column order kept
    assert {"property": "targetColumn", "value": "churned"} in c["customProperties"]


def test_logical_types_and_physical_types():
    p = props_by_name(infer(make_frame()))
    assert {k: v["logicalType"] for k, v in p.items()} == {
        "customer_id": "integer",
        "age": "integer",
        "income": "number",
        "plan": "string",
        "signup_date": "date",
        "last_seen": "timestamp",
        "active": "boolean",
        "Stadt Größe": "string",
        "comment": "string",
        "churned": "string",
    }
    assert p["age"]["physicalType"] == "bigint"  # SQL types, as data tools read physicalType
    assert p["income"]["physicalType"] == "double"
    assert p["active"]["physicalType"] == "boolean"


def test_required_unique_and_bounds():
    df = make_frame()
    p = props_by_name(infer(df))
    assert p["income"]["required"] is False
    assert all(p[c]["required"] is True for c in df.columns if c != "income")
    # only the id column is unique: "comment" is all distinct too but does not look like an id
    assert [name for name, prop in p.items() if prop.get("unique")] == ["customer_id"]
    assert "logicalTypeOptions" not in p["customer_id"]  # no bounds on ids (new ids must pass)
    assert p["age"]["logicalTypeOptions"] == {"minimum": int(df.age.min()), "maximum": int(df.age.max())}
    opts = p["income"]["logicalTypeOptions"]
    assert opts == {"minimum": float(df.income.min()), "maximum": float(df.income.max())}
    assert isinstance(opts["minimum"], float)
    assert p["signup_date"]["logicalTypeOptions"] == {"minimum": "2023-01-01", "maximum": "2023-03-21"}
    assert p["last_seen"]["logicalTypeOptions"]["minimum"] == "2024-01-01T08:00:00"


def test_allowed_values_null_limits_target_and_row_count():
    c = infer(make_frame())
    p = props_by_name(c)
    (plan_rule,) = rules(p["plan"], "invalidValues")
    assert plan_rule["arguments"] == {"validValues": ["basic", "enterprise", "pro"]}
    assert plan_rule["mustBe"] == 0
    assert rules(p["Stadt Größe"], "invalidValues")[0]["arguments"]["validValues"] == [
        "Köln",
        "Malmö",
        "Zürich",
    ]
    assert rules(p["comment"], "invalidValues") == []  # high cardinality: no allowed values
    assert rules(p["customer_id"], "invalidValues") == []

    (nulls,) = rules(p["income"], "nullValues")
    assert nulls["unit"] == "percent"
    assert 10 < nulls["mustBeLessOrEqualTo"] < 100  # tolerance above the 10% seen
    assert rules(p["age"], "nullValues") == []  # required says it all

    assert p["churned"]["tags"] == ["target"]
    assert sum("tags" in prop for prop in p.values()) == 1

    (row_rule,) = c["schema"][0]["quality"]
    assert row_rule["metric"] == "rowCount"
    assert row_rule["mustBeGreaterOrEqualTo"] == N // 2


def test_no_target_and_bad_target():
    c = infer(make_frame(), target_column=None)
    assert all("tags" not in p for p in c["schema"][0]["properties"])
    with pytest.raises(InputFileError) as exc:
        infer(make_frame(), target_column="nope")
    assert "nope" in exc.value.message and "data/customers.csv" in exc.value.message
    assert "customer_id" in exc.value.hint


def test_nullable_ints_object_bools_and_aware_timestamps():
    df = pd.DataFrame(
        {
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
            "flag": pd.Series([True, False, None, True], dtype=object),
            "ts": pd.to_datetime(
                ["2024-01-01T00:00:00Z", "2024-01-02T12:30:00Z", None, "2024-01-03T00:00:00Z"]
            ),
            "when": ["2024-01-01T10:00:00+01:00", "2024-01-02T10:00:00+01:00", "2024-01-03T10:00:00Z", None],
        }
    )
    c = infer(df, target_column="")
    p = props_by_name(c)
    assert p["n"]["logicalType"] == "integer" and p["n"]["logicalTypeOptions"] == {"minimum": 1, "maximum": 4}
    assert p["flag"]["logicalType"] == "boolean"
    assert p["ts"]["logicalType"] == "timestamp"
    assert p["ts"]["logicalTypeOptions"]["timezone"] is True
    assert p["when"]["logicalType"] == "timestamp"
    assert p["when"]["logicalTypeOptions"]["minimum"] == "2024-01-01T09:00:00"  # normalised to UTC
    assert contracts.validate_contract(c) == []


# ------------------------------------------------------------------------------- schema validation


def test_inferred_contract_is_valid_odcs_v310():
    c = infer(make_frame())
    assert contracts.validate_contract(c) == []
    assert contracts.validate_contract(c, version="v3.1.0") == []
    # the pydantic model of the same package accepts it too
    from open_data_contract_standard.model import OpenDataContractStandard

    model = OpenDataContractStandard(**yaml.safe_load(contracts.dump_contract(c)))
    assert model.apiVersion == "v3.1.0"
    assert model.schema_[0].properties[0].name == "customer_id"


def test_invalid_contracts_produce_errors():
    good = infer(make_frame())

    bad = yaml.safe_load(contracts.dump_contract(good))
    bad["schema"][0]["properties"][1]["logicalType"] = "text"
    errors = contracts.validate_contract(bad)
    assert errors and any("schema[0].properties[1]" in e and "text" in e for e in errors)

    bad = yaml.safe_load(contracts.dump_contract(good))
    del bad["id"]
    assert any("'id' is a required property" in e for e in contracts.validate_contract(bad))

    bad = yaml.safe_load(contracts.dump_contract(good))
    bad["schema"][0]["properties"][2]["quality"][0]["metric"] = "nullCount"
    assert contracts.validate_contract(bad)

    bad = yaml.safe_load(contracts.dump_contract(good))
    bad["schema"][0]["properties"][0]["colour"] = "red"  # unknown field
    assert any("colour" in e for e in contracts.validate_contract(bad))

    assert any("apiVersion" in e for e in contracts.validate_contract(good, version="v3.0.2"))
    assert contracts.validate_contract([]) != []


# ------------------------------------------------------------------------------- dump / determinism


def test_dump_is_deterministic_and_round_trips():
    df = make_frame()
    first = contracts.dump_contract(infer(df))
    second = contracts.dump_contract(infer(make_frame()))
    assert first == second
    # row order does not matter either: sorted values, no timestamps, stable id
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert contracts.dump_contract(infer(shuffled)) == first
    assert yaml.safe_load(first) == infer(df)
    assert "Zürich" in first and "Stadt Größe" in first  # unicode kept, not escaped
    assert first.startswith("apiVersion: v3.1.0\nkind: DataContract\nid: ")
    # key order does not depend on the order keys were inserted
    shuffled_keys = dict(reversed(list(infer(df).items())))
    assert contracts.dump_contract(shuffled_keys) == first


def test_different_dataset_names_get_different_ids():
    a = infer(make_frame(), dataset_name="a")
    b = infer(make_frame(), dataset_name="b")
    assert a["id"] != b["id"]


# ------------------------------------------------------------------------------- reading (the project's reader)


def read(path, **kwargs):
    options, _ = datafiles.sniff_options(path)
    return datafiles.load_table(path, options, **kwargs)


def test_load_csv_semicolon_latin1(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes("name;city;n\nA;Zürich;1\nB;Malmö;2\nC;Köln;3\n".encode("latin-1"))
    options, notes = datafiles.sniff_options(path)
    assert options["sep"] == ";" and options["encoding"] in {"cp1252", "latin-1"} and notes
    df = datafiles.load_table(path, options)
    assert list(df.columns) == ["name", "city", "n"]
    assert df.city.tolist() == ["Zürich", "Malmö", "Köln"]


def test_load_utf8_bom_tsv_parquet_jsonl(tmp_path):
    df = make_frame(20)
    tsv = tmp_path / "d.tsv"
    tsv.write_bytes(b"\xef\xbb\xbf" + df.to_csv(sep="\t", index=False).encode("utf-8"))
    back = read(tsv)
    assert list(back.columns) == list(df.columns)  # BOM not glued to the first name
    assert back["Stadt Größe"].tolist() == df["Stadt Größe"].tolist()

    pq = tmp_path / "d.parquet"
    df.to_parquet(pq)
    assert read(pq).shape == df.shape

    jl = tmp_path / "d.jsonl"
    df.drop(columns=["last_seen"]).to_json(jl, orient="records", lines=True, force_ascii=False)
    assert read(jl).shape == (20, df.shape[1] - 1)


def test_load_max_rows_truncates_and_relaxes_row_count(tmp_path):
    path = tmp_path / "d.csv"
    make_frame(50).to_csv(path, index=False)
    full = read(path)
    assert len(full) == 50 and full.attrs["truncated"] is False
    part = read(path, max_rows=10)
    assert len(part) == 10 and part.attrs["truncated"] is True
    (row_rule,) = infer(part)["schema"][0]["quality"]
    assert row_rule == {**row_rule, "metric": "rowCount", "mustBeGreaterThan": 0}
    pq = tmp_path / "d.parquet"
    make_frame(50).to_parquet(pq)
    assert len(read(pq, max_rows=7)) == 7


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("missing.csv", None, "not found"),
        ("empty.csv", b"", "empty"),
        ("header_only.csv", b"a,b,c\n", "no rows"),
        ("broken.parquet", b"this is not parquet", "Cannot read"),
        ("binary.csv", b"\x00\x01\x02\x03" * 100, "binary"),
        ("parquet.csv", b"PAR1" + b"\x00" * 40, "Parquet"),
        ("bad.jsonl", b'{"a": 1}\n{not json\n', "Cannot read"),
    ],
)
def test_unreadable_files_raise_input_file_error(tmp_path, name, content, needle):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError) as exc:
        read(path)
    err = exc.value
    assert needle in err.message
    assert name in err.message  # names the file
    assert err.path == str(path)
    assert err.exit_code == 4
    if needle != "not found":
        assert err.hint


def test_unique_only_for_id_like_columns():
    n = 30
    df = pd.DataFrame(
        {
            "paid": np.arange(n) * 3,  # distinct, but "paid" is not "p" + "id"
            "orderId": np.arange(n),
            "Customer ID": [f"C{i:04d}" for i in range(n)],
            "token": [str(uuid.uuid5(uuid.NAMESPACE_DNS, str(i))) for i in range(n)],  # uuid-shaped
            "user_id": [1, 1] + list(range(2, n)),  # an id name, but not distinct
        }
    )
    p = props_by_name(infer(df, target_column=None))
    assert {name: prop.get("unique", False) for name, prop in p.items()} == {
        "paid": False,
        "orderId": True,
        "Customer ID": True,
        "token": True,
        "user_id": False,
    }
    assert "logicalTypeOptions" in p["paid"] and "logicalTypeOptions" in p["user_id"]


def test_a_contract_from_a_sample_keeps_only_what_the_rest_of_the_file_cannot_break():
    """Inferred from the first rows of a bigger file: types only, or the project's own check of the
    whole file would fail on the first value outside the sample's bounds or categories."""
    df = make_frame(60)
    df.attrs["truncated"] = True
    contract = infer(df)
    props = {p["name"]: p for p in contract["schema"][0]["properties"]}
    assert all("logicalType" in p for p in props.values())
    assert not any("logicalTypeOptions" in p or p.get("required") or p.get("unique") or p.get("quality")
                   for p in props.values())
