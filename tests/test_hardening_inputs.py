"""Hostile and unusual inputs: huge and malformed files, odd encodings and spellings, tampered answers.

Each ``test_case_NN_...`` is named after the hardening case it covers. The huge-file tests write their
files in chunks (never held in memory here) and measure inspection's peak memory in a child process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path, PurePosixPath

import pytest
from conftest import ROOT, adopt_json, copy_example, git, shipyard, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MB = 1024 * 1024


# --------------------------------------------------------------------------- helpers: big files, child runs
def _need_disk(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed + 512 * MB:
        pytest.fail(f"case 8 needs {needed / 2**30:.1f} GB free in {folder} (has {free / 2**30:.1f} GB): "
                    "free some disk or point TMPDIR at a larger disk", pytrace=False)


def write_big_notebook(path: Path, output_mb: int, *, data: str = "data/big.csv") -> None:
    """A notebook whose code reads ``data`` and fits a model, with ``output_mb`` MB of base64 image outputs
    between its cells, written in 1 MB pieces."""
    piece = ("iVBORw0KGgo" * (MB // 11 + 1))[:MB]  # base64-looking, 1 MB
    head = {"cell_type": "code", "execution_count": 1, "metadata": {},
            "source": ["import pandas as pd\n", f"df = pd.read_csv('{data}')\n"]}
    tail = {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
            "source": ["from sklearn.linear_model import LogisticRegression\n",
                       "model = LogisticRegression().fit(df[['a', 'b']], df['label'])\n"]}
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"cells": [')
        out.write(json.dumps(head)[:-1] + ', "outputs": [')
        for i in range(output_mb):
            out.write(("," if i else "") + '{"output_type": "display_data", "metadata": {}, "data": {"text/plain": '
                      '["<Figure \\"]\\" [x]>"], "image/png": "')
            out.write(piece)
            out.write('"}}')
        out.write("]}, " + json.dumps(tail))
        out.write('], "metadata": {"kernelspec": {"name": "python3", "language": "python"}}, '
                  '"nbformat": 4, "nbformat_minor": 5}')


def write_big_csv(path: Path, size: int) -> None:
    """A CSV of about ``size`` bytes, written in 8 MB chunks of repeated rows."""
    rows = "".join(f"{i % 97},{(i * 7) % 13}.5,{'yes' if i % 3 else 'no'},{i % 2}\n" for i in range(100_000))
    chunk = (rows * (8 * MB // len(rows) + 1))[: 8 * MB]
    chunk = chunk[: chunk.rindex("\n") + 1].encode()
    with open(path, "wb") as out:
        out.write(b"a,b,c,label\n")
        written = 0
        while written < size:
            out.write(chunk)
            written += len(chunk)


def run_child(code: str, timeout: int = 120) -> dict:
    """Run ``code`` in a fresh Python with Shipyard importable; it prints one JSON line. Adds its peak RSS."""
    # VmHWM, the peak of this process's own memory: ru_maxrss would carry over the forking parent's (pytest's)
    # peak across exec on Linux, so a big test process made a small child look big
    script = textwrap.dedent(code) + textwrap.dedent("""
        import json as _json, re as _re
        _status = open("/proc/self/status", encoding="ascii").read()
        RESULT["peak_mb"] = int(_re.search(r"VmHWM:\\s+(\\d+) kB", _status).group(1)) / 1024
        print(_json.dumps(RESULT))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "generator")})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- case 8: size and malformed files
def test_case_08_malformed_huge_notebook_and_2gb_csv_are_read_in_bounded_memory(tmp_path: Path) -> None:
    _need_disk(tmp_path, 2300 * MB)
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    (root / "models").mkdir()
    try:
        write_big_csv(root / "data" / "big.csv", 2 * 1024 * MB)
        write_big_notebook(root / "train.ipynb", 200)
        (root / "broken.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "x = 1"', encoding="utf-8")
        (root / "explore.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": "import os",
                                                                   "outputs": [], "metadata": {}}],
                                                        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                                            encoding="utf-8")
        with open(root / "models" / "weights.h5", "wb") as out:  # sparse: never read, only its size matters
            out.truncate(60 * MB)
        with open(root / "data" / "archive.zip", "wb") as out:
            out.truncate(51 * MB)
        (root / "data" / "small.npy").write_bytes(b"\x93NUMPY" + b"\0" * 100)
        result = run_child(f"""
            from pathlib import Path
            from shipyard.inspect import inspect_repo
            from shipyard.answers import Flags, derive
            from shipyard.datafiles import load_table
            from shipyard.contracts import infer_contract
            root = Path({str(root)!r})
            facts = inspect_repo(root)
            answers, _ = derive(facts, root, Flags(), git_email="a@example.org", git_name="A")
            frame = load_table(root / facts.data_file.value, dict(facts.read_options))
            contract = infer_contract(frame, dataset_name="big", data_path=facts.data_file.value,
                                      owner_email="a@example.org", target_column="label")
            RESULT = {{
                "notebooks": [nb.path for nb in facts.notebooks],
                "findings": [[f.code, f.path, f.message] for f in facts.findings],
                "data": facts.data_file.value, "columns": list(facts.columns),
                "model": facts.model.variable if facts.model else None,
                "large_files": answers.get("large_files"),
                "rows": len(frame), "truncated": frame.attrs["truncated"],
                "row_rule": contract["schema"][0]["quality"][0],
            }}
        """)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    codes = {(code, path) for code, path, _ in result["findings"]}
    # per-file errors, the rest processed
    assert ("notebook-unreadable", "broken.ipynb") in codes
    assert result["notebooks"] == ["explore.ipynb", "train.ipynb"]
    assert ("notebook-large", "train.ipynb") in codes
    # the 200 MB notebook's code (before and after its outputs) was read, the 2 GB file sampled
    assert result["model"] == "model" and result["data"] == "data/big.csv"
    assert result["columns"] == ["a", "b", "c", "label"]
    assert result["rows"] == 200_000 and result["truncated"] is True
    assert result["row_rule"]["mustBeGreaterThan"] == 0  # a sample: no row-count floor inferred from it
    # large files of any type land in .dockerignore (the answer the template turns into lines)
    assert result["large_files"] == ["data/archive.zip", "data/big.csv", "models/weights.h5", "train.ipynb"]
    print(f"inspection + contract inference, 200 MB notebook and 2 GB CSV: peak RSS {result['peak_mb']:.0f} MB")
    assert result["peak_mb"] < 600, f"peak RSS {result['peak_mb']:.0f} MB"


def test_case_08_large_notebook_outputs_are_stripped_exactly(tmp_path: Path) -> None:
    """The streaming stripper keeps every cell, whatever brackets, quotes and escapes the outputs hold,
    across chunk boundaries."""
    import io

    from shipyard.inspect._slim import SlimError, slim_json

    nb = {"cells": [{"cell_type": "code", "source": ['s = "outputs": [\\"]"\n'], "metadata": {"outputs": 1},
                     "outputs": [{"text": ['] } " \\ [ {', "\\\\"]}, {"data": {"x": "é" * 50}}]},
                    {"cell_type": "markdown", "source": "![a](attachment:a.png)", "attachments": {"a.png": {
                        "image/png": "AAAA]}"}}}], "metadata": {}, "nbformat": 4}
    raw = json.dumps(nb, ensure_ascii=False).encode()
    for chunk in (1, 3, 16, 4096):
        kept, dropped = slim_json(io.BytesIO(raw), chunk=chunk)
        got = json.loads(kept)
        assert got["cells"][0]["source"] == nb["cells"][0]["source"] and got["cells"][0]["outputs"] == []
        assert got["cells"][0]["metadata"] == {"outputs": 1} and got["cells"][1]["attachments"] == {}
        assert dropped > 0
    with pytest.raises(SlimError):
        slim_json(io.BytesIO(b'{"cells": [{"outputs": [{"a": "b"}'))


def test_case_08_data_readers_that_cannot_stop_early_refuse_huge_files(tmp_path: Path) -> None:
    from shipyard.datafiles import MAX_WHOLE_READ_BYTES, load_table
    from shipyard.errors import InputFileError

    array = tmp_path / "rows.json"
    with open(array, "wb") as out:  # sparse: refused by its size before anything is read
        out.write(b"[")
        out.truncate(MAX_WHOLE_READ_BYTES + 1)
    with pytest.raises(InputFileError, match="not JSON Lines"):
        load_table(array, {"format": "json"})
    book = tmp_path / "book.xlsx"
    with open(book, "wb") as out:
        out.truncate(MAX_WHOLE_READ_BYTES + 1)
    with pytest.raises(InputFileError, match="Excel workbook"):
        load_table(book, {"format": "excel"})
    blob = tmp_path / "blob.csv"
    with open(blob, "wb") as out:
        out.write(b"a,b" + b"x" * (MAX_WHOLE_READ_BYTES + 1))
    with pytest.raises(InputFileError, match="no line break"):
        load_table(blob, {"format": "csv"})
    blob.unlink()


def test_case_08_a_footer_does_not_make_a_huge_csv_read_whole(tmp_path: Path) -> None:
    from shipyard.datafiles import MAX_WHOLE_READ_BYTES

    _need_disk(tmp_path, MAX_WHOLE_READ_BYTES + 64 * MB)
    path = tmp_path / "export.csv"
    write_big_csv(path, MAX_WHOLE_READ_BYTES + 8 * MB)
    with open(path, "ab") as out:
        out.write(b"Total,,,\n")
    result = run_child(f"""
        from pathlib import Path
        from shipyard.datafiles import load_table
        frame = load_table(Path({str(path)!r}), {{"format": "csv", "skipfooter": 1}}, max_rows=1000)
        RESULT = {{"rows": len(frame), "truncated": frame.attrs["truncated"]}}
    """)
    path.unlink()
    assert result["rows"] == 1000 and result["truncated"] is True
    assert result["peak_mb"] < 400, f"peak RSS {result['peak_mb']:.0f} MB"


# --------------------------------------------------------------------------- case 9: encodings and spellings
@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, adopted and committed once for the tests that change it afterwards."""
    repo = copy_example(tmp_path_factory.mktemp("adopted") / "churn")
    adopt_json(repo, "--owner", "ana@example.org")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "adopt")
    return repo


def test_case_09_latin1_utf16_crlf_and_binary_files_are_kept_byte_for_byte(tmp_path: Path) -> None:
    repo = tmp_path / "churn"
    shutil.copytree(ROOT / "examples" / "churn", repo)
    (repo / "README.md").write_bytes("# Análise de churn\r\n\r\nDados: data/customers.csv\r\n".encode())
    (repo / "notas.txt").write_bytes("Relatório de previsão: ação, coração\n".encode("latin-1"))
    requirements = (ROOT / "examples" / "churn" / "requirements.txt").read_text(encoding="utf-8")
    (repo / "requirements.txt").write_bytes(requirements.replace("\n", "\r\n").encode("utf-16"))  # with a BOM
    (repo / "MODEL_CARD.md").write_bytes(bytes(range(256)) * 4)  # binary, at a path the template generates
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    from conftest import make_repo
    from shipyard.inspect import inspect_repo

    make_repo(repo)
    # the UTF-16 requirements are read, not misread: the pin of scikit-learn is the one they declare
    facts = inspect_repo(repo)
    pins = {r.distribution.lower(): r for r in facts.requirements}
    assert pins["scikit-learn"].source == "requirements.txt" and "1.3.2" in pins["scikit-learn"].specifier
    assert not [f for f in facts.findings if f.code == "requirements-unreadable"]
    before = snapshot(repo)
    report = adopt_json(repo, "--owner", "ana@example.org")
    after = snapshot(repo)
    assert {k: after[k] for k in before} == before  # conflicts are never rewritten, nothing is re-encoded
    assert {"README.md", "MODEL_CARD.md"} <= set(report["files"]["conflict"])


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_case_09_an_nfd_spelling_of_a_generated_path_is_the_same_file(tmp_path: Path) -> None:
    from shipyard.apply import apply_plan
    from shipyard.plan import Action, make_plan

    root = tmp_path / "repo"
    (root / _nfd("análise")).mkdir(parents=True)
    (root / _nfd("análise") / _nfd("relatório.md")).write_text("mine\n", encoding="utf-8")
    (root / _nfd("notas-é.txt")).write_text("same\n", encoding="utf-8")
    nfc = {PurePosixPath(unicodedata.normalize("NFC", p)): (c, 0o644) for p, c in (
        ("análise/relatório.md", b"theirs\n"), ("notas-é.txt", b"same\n"), ("análise/novo.md", b"new\n"))}
    plan = make_plan(root, nfc)
    actions = {unicodedata.normalize("NFC", str(op.path)): op.action for op in plan.ops}
    assert actions == {"análise/relatório.md": Action.CONFLICT, "notas-é.txt": Action.IDENTICAL,
                       "análise/novo.md": Action.CREATE}
    conflict = next(op for op in plan.ops if op.action is Action.CONFLICT)
    assert "-mine" in conflict.diff(root) and "+theirs" in conflict.diff(root)
    apply_plan(plan, backup_stamp="t")
    assert sorted(os.listdir(root)) == sorted([_nfd("análise"), _nfd("notas-é.txt")])  # never a second spelling
    assert sorted(os.listdir(root / _nfd("análise"))) == sorted(["novo.md", _nfd("relatório.md")])
    assert (root / _nfd("análise") / _nfd("relatório.md")).read_text(encoding="utf-8") == "mine\n"
    forced = make_plan(root, nfc, force=["análise/relatório.md"])
    overwrite = next(op for op in forced.ops if op.action is Action.OVERWRITE)
    assert str(overwrite.path) == f"{_nfd('análise')}/{_nfd('relatório.md')}"  # your file, not a second one


def test_case_09_an_nfd_folder_that_is_a_symlink_out_is_not_written_through(tmp_path: Path) -> None:
    from shipyard.plan import Action, make_plan

    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / _nfd("análise")).symlink_to(outside)
    plan = make_plan(root, {PurePosixPath("análise/x.md"): (b"x\n", 0o644)})
    assert [op.action for op in plan.ops] == [Action.SKIP] and not list(outside.iterdir())


# --------------------------------------------------------------------------- case 14: answers files
def _tamper(adopted: Path, tmp_path: Path, text: str | bytes) -> Path:
    repo = tmp_path / "project"
    shutil.copytree(adopted, repo, symlinks=True)
    answers = repo / ".copier-answers.yml"
    answers.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tampered")
    return repo


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8))


def test_case_14_a_yaml_bomb_answers_file_fails_safely(adopted: Path, tmp_path: Path) -> None:
    repo = _tamper(adopted, tmp_path, (adopted / ".copier-answers.yml").read_text(encoding="utf-8") + BOMB)
    for command in ("adopt", "update"):
        done = subprocess.run([sys.executable, "-m", "shipyard", command, str(repo), "--yes", "--json"],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "generator")})
        assert done.returncode == 4, (command, done.stderr)
        assert ".copier-answers.yml" in done.stderr and "Traceback" not in done.stderr
    assert "YAML bomb" in done.stderr or "cannot be read" in done.stderr


def test_case_14_a_tampered_answers_file_is_a_warning_for_adopt(adopted: Path, tmp_path: Path) -> None:
    repo = _tamper(adopted, tmp_path, "project_name: [unclosed\n  - : :\n")
    report = adopt_json(repo, "--dry-run")
    warnings = [w for w in report["warnings"] if w["code"] == "answers-unreadable"]
    assert warnings and "not valid YAML" in warnings[0]["message"]
    assert ".copier-answers.yml" in warnings[0]["message"]


@pytest.mark.parametrize("change", ["shipyard_version", "_commit"])
def test_case_14_answers_from_a_newer_shipyard_are_refused_with_the_fix(adopted: Path, tmp_path: Path,
                                                                       change: str) -> None:
    import re

    text = (adopted / ".copier-answers.yml").read_text(encoding="utf-8")
    if change == "shipyard_version":
        text = re.sub(r"(?m)^shipyard_version: .*$", "shipyard_version: 99.0.0", text)
    else:
        text = re.sub(r"(?m)^_commit: .*$", "_commit: v99.1.0", text)
    assert "99." in text
    repo = _tamper(adopted, tmp_path, text)
    for command in (("adopt", repo, "--yes", "--json"), ("update", repo, "--yes", "--json")):
        done = shipyard(*command)
        assert done.returncode == 4, (command, done.stdout, done.stderr)
        assert "newer than this Shipyard" in done.stderr and "upgrade Shipyard" in done.stderr
        assert ".copier-answers.yml" in done.stderr and "Traceback" not in done.stderr


def test_case_14_oversized_recursive_and_non_mapping_answers_are_ignored_with_a_reason(tmp_path: Path) -> None:
    from shipyard.answers import MAX_ANSWERS_BYTES, previous_answers, recorded_answers, unreadable_finding
    from shipyard.errors import InputFileError

    answers = tmp_path / ".copier-answers.yml"
    for text, why in ((b"a: " + b"x" * MAX_ANSWERS_BYTES, "kB"), (b"a: &a [*a]\n", "refers to itself"),
                      (b"- just\n- a list\n", "not a mapping"), ("é: 1".encode("latin-1"), "not UTF-8"),
                      (b"[" * 5000 + b"]" * 5000, "")):
        answers.write_bytes(text)
        recorded = recorded_answers(tmp_path)
        assert dict(recorded) == {} and why in recorded.problem
        finding = unreadable_finding(recorded)
        assert finding is not None and finding.code == "answers-unreadable"
        if recorded.hostile:  # built to exhaust a reader: refused with the fix, not just ignored
            with pytest.raises(InputFileError, match="refused"):
                previous_answers(recorded)
        else:
            assert previous_answers(recorded) == {}
    assert [recorded_answers(tmp_path).hostile for _ in "x"] == [True]  # the last one: nested 5000 deep
    answers.write_text("project_name: churn\nshared: &s {format: csv}\nread_options: *s\n", encoding="utf-8")
    recorded = recorded_answers(tmp_path)
    assert recorded["read_options"] == {"format": "csv"} and not recorded.problem  # a few aliases are fine


# --------------------------------------------------------------------------- property-based: random inputs
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_source = st.lists(st.sampled_from(["import pandas as pd\n", "df = pd.read_csv('data.csv')\n", "%matplotlib inline\n",
                                    "print 'x'\n", "model.fit(X, y)\n", "!pip install x\n", "df[:-3]\n", "(\n",
                                    "from sklearn.tree import DecisionTreeClassifier as T\n", "m = T().fit(df, df.y)\n"])
                   | st.text(max_size=40), max_size=6)
_cell = st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown", "raw", 3]),
                               "source": _source | st.text(max_size=30) | _json},
                              optional={"outputs": _json, "metadata": _json, "execution_count": _json})
_notebook = st.one_of(
    st.fixed_dictionaries({"cells": st.lists(_cell, max_size=5), "nbformat": st.sampled_from([4, 3, "4", None])},
                          optional={"metadata": _json, "nbformat_minor": _json}),
    st.fixed_dictionaries({"worksheets": st.lists(st.fixed_dictionaries({"cells": st.lists(_cell, max_size=3)}),
                                                  max_size=2)}),
    _json,
)
_csv_cell = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6) | st.sampled_from(
    ["", "1", "2.5", "NA", "nan", "2024-01-01", "yes", "1,5", '"q"', "\t", "-", "1e309"])
_csv = st.one_of(
    st.lists(st.lists(_csv_cell, min_size=1, max_size=4), min_size=1, max_size=8).map(
        lambda rows: "\n".join(",".join(r) for r in rows).encode("utf-8")),
    st.binary(max_size=200),
)


def _own_errors_only(call, *args, **kwargs):
    from shipyard.errors import ShipyardError

    try:
        return call(*args, **kwargs)
    except ShipyardError as exc:
        assert exc.message.strip(), "a Shipyard error without a message"
        return None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(notebook=_notebook, raw_tail=st.binary(max_size=20), broken=st.booleans(), table=_csv)
def test_property_random_notebooks_and_tables_give_only_shipyard_errors(tmp_path: Path, notebook: object,
                                                                         raw_tail: bytes, broken: bool,
                                                                         table: bytes) -> None:
    from shipyard.contracts import infer_contract
    from shipyard.datafiles import load_table
    from shipyard.inspect import inspect_repo

    root = tmp_path / "repo"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    text = json.dumps(notebook).encode()
    (root / "nb.ipynb").write_bytes(text[: len(text) // 2] + raw_tail if broken else text)
    (root / "data.csv").write_bytes(table)
    facts = _own_errors_only(inspect_repo, root)
    if facts is not None:
        assert all(f.message for f in facts.findings)
    frame = _own_errors_only(load_table, root / "data.csv", {"format": "csv"})
    if frame is not None:
        target = str(frame.columns[-1])
        _own_errors_only(infer_contract, frame, dataset_name="data", data_path="data.csv",
                         owner_email="a@example.org", target_column=target)


@settings(max_examples=100, deadline=None)
@given(document=_notebook, chunk=st.integers(min_value=1, max_value=64))
def test_property_streamed_stripping_equals_parsing_then_dropping(document: object, chunk: int) -> None:
    import io

    from shipyard.inspect._slim import slim_json

    def drop(value: object) -> object:
        if isinstance(value, dict):
            return {k: ([] if k == "outputs" and isinstance(v, list) else {} if k == "attachments"
                        and isinstance(v, dict) else drop(v)) for k, v in value.items()}
        return [drop(v) for v in value] if isinstance(value, list) else value

    raw = json.dumps(document, ensure_ascii=False).encode()
    kept, _ = slim_json(io.BytesIO(raw), chunk=chunk)
    assert json.loads(kept) == drop(document)
