"""`shipyard doctor`: the audit's contract as a user sees it (formats, schema, floors, selection, config,
plugins, integration with adopt and fleet), on the bundled example before and after adoption."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, adopt_json, copy_example, git, shipyard
from shipyard.checks import DoctorConfig, audit, check, passed
from shipyard.checks.registry import _REGISTRY, FAMILIES, ML_TEST_SCORE, all_checks

SCHEMA = json.loads((ROOT / "generator/shipyard/checks/doctor.schema.json").read_text())
SARIF_SCHEMA = Path(sys.prefix) / "share" / "shipyard-test" / "sarif-schema-2.1.0.json"
PLUGIN = ROOT / "examples" / "doctor-plugin"


@pytest.fixture(scope="module")
def before_after(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict, dict]:
    """The bundled example audited as it is, then adopted (committed) and audited again."""
    repo = copy_example(tmp_path_factory.mktemp("doc") / "churn-prediction")
    before = json.loads(shipyard("doctor", repo, "--format", "json", "--no-plugins", check=True).stdout)
    report = adopt_json(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "adopt")
    after = json.loads(shipyard("doctor", repo, "--format", "json", "--no-plugins", check=True).stdout)
    return repo, before, after, report


def test_the_registry_holds_the_28_ml_test_score_tests_and_both_other_families() -> None:
    items, _ = all_checks(plugins=False)
    per = {f: [c for c in items if c.family == f] for f in FAMILIES}
    assert [len(per[f]) for f in ML_TEST_SCORE] == [7, 7, 7, 7]
    assert {c.id for c in per["data"]} == {f"data-{i}" for i in range(1, 8)}
    assert len(per["governance"]) >= 10 and len(per["delivery"]) >= 7
    for c in items:  # every check says in one line what it checks, and has a title
        assert c.description and c.title and "\n" not in c.description, c.id
    assert len({c.id for c in items}) == len(items)


def test_json_output_is_valid_against_the_published_schema(before_after) -> None:
    _, before, after, _ = before_after
    for doc in (before, after):
        jsonschema.validate(doc, SCHEMA)
        assert {c["result"] for c in doc["checks"]} <= {"pass", "partial", "fail", "n/a"}
    printed = json.loads(shipyard("doctor", "--schema", check=True).stdout)
    assert printed == SCHEMA


def test_the_schema_rejects_what_the_output_must_never_be(before_after) -> None:
    _, _, after, _ = before_after
    broken = json.loads(json.dumps(after))
    broken["checks"][0]["result"] = "ok"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
    del broken["scores"]["ml_test_score"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_sarif_output_is_valid_sarif_2_1_0(before_after) -> None:
    repo, _, _, _ = before_after
    assert SARIF_SCHEMA.is_file(), "run `python scripts/fetch_sarif_schema.py` (make install does)"
    schema = json.loads(SARIF_SCHEMA.read_text())
    doc = json.loads(shipyard("doctor", repo, "--format", "sarif", "--no-plugins", check=True).stdout)
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rules) == len(set(rules)) == len(run["results"])
    failing = [r for r in run["results"] if r["properties"]["result"] == "fail"]
    assert failing and all(r["level"] == "error" for r in failing)
    for result in run["results"]:  # every location is a file of the repo, lines inside it
        for loc in result["locations"]:
            rel = loc["physicalLocation"]["artifactLocation"]["uri"]
            assert (repo / rel).is_file(), rel
            line = loc["physicalLocation"].get("region", {}).get("startLine")
            if line:
                assert line <= len((repo / rel).read_text(encoding="utf-8", errors="replace").splitlines())


def test_every_result_names_the_files_and_lines_it_looked_at(before_after) -> None:
    repo, _, after, _ = before_after
    looked = 0
    for item in after["checks"]:
        if item["result"] == "pass":
            assert item["evidence"], f"{item['id']} passed without evidence"
        for ev in item["evidence"]:
            path = repo / ev["path"]
            assert path.is_file(), (item["id"], ev)
            if ev["cell"]:  # a notebook: the line within that code cell
                cell = json.loads(path.read_text(encoding="utf-8"))["cells"][ev["cell"] - 1]
                assert cell["cell_type"] == "code", (item["id"], ev)
                assert "".join(cell["source"]).splitlines()[ev["line"] - 1].strip() == ev["snippet"], ev
                looked += 1
            elif ev["line"]:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
                assert ev["line"] <= len(lines)
                if ev["snippet"] and "." not in ev["snippet"]:  # a text match: the snippet is that line
                    assert ev["snippet"][:40] in lines[ev["line"] - 1], (item["id"], ev)
                looked += 1
    assert looked > 30


def test_the_example_scores_low_before_adopt_and_higher_after(before_after) -> None:
    _, before, after, report = before_after
    assert before["scores"]["ml_test_score"] == 0
    assert after["scores"]["ml_test_score"] > before["scores"]["ml_test_score"]
    for family in ("data", "infrastructure", "monitoring", "governance", "delivery"):
        assert after["scores"][family] > before["scores"][family], family
    # adopt's own before/after (ADOPTION.md, --json) is what doctor measures on the real trees
    assert report["readiness"]["before"] == before["scores"]
    assert report["readiness"]["after"] == after["scores"]
    assert report["readiness"]["delta"] == {k: round(after["scores"][k] - before["scores"][k], 1)
                                            for k in (*FAMILIES, "ml_test_score")}


# The bundled example, family by family: what its own files earn, and what adoption adds. A change to the
# template or a check that moves these numbers must say so here.
EXAMPLE_BEFORE = {"data": 0.0, "model": 0.5, "infrastructure": 0.5, "monitoring": 0.0, "ml_test_score": 0.0,
                  "governance": 0.0, "delivery": 0.0}
EXAMPLE_DELTA = {"data": 3.5, "model": 3.0, "infrastructure": 5.5, "monitoring": 7.0, "ml_test_score": 3.5,
                 "governance": 36.4, "delivery": 100.0}


def test_the_example_gains_exactly_these_points_per_family(before_after) -> None:
    _, before, after, report = before_after
    assert before["scores"] == EXAMPLE_BEFORE
    # model 0.5: the notebooks are in git (model-1, by hand); infrastructure 0.5: seeds and pins (infra-1)
    partial_before = {c["id"] for c in before["checks"] if c["result"] == "partial"}
    assert partial_before == {"model-1", "infra-1"}
    assert report["readiness"]["delta"] == EXAMPLE_DELTA
    assert after["band"] == ("Strong levels of automated testing and monitoring, appropriate for "
                             "mission-critical systems.")


def test_adoption_md_records_readiness_before_and_after(before_after) -> None:
    repo, before, after, _ = before_after
    text = (repo / "ADOPTION.md").read_text(encoding="utf-8")
    section = text.split("## Production readiness", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| Monitoring |"))
    b, a = before["scores"]["monitoring"], after["scores"]["monitoring"]
    assert row == f"| Monitoring | {b:g} | {a:g} | {a - b:+g} |"
    assert f"| **ML Test Score** (lowest section) | {before['scores']['ml_test_score']:g} | " \
           f"{after['scores']['ml_test_score']:g} |" in section
    failing = [c["id"] for c in after["checks"] if c["result"] == "fail"]
    assert all(f"`{cid}`" in section for cid in failing[:12])


def test_fail_under_gates_with_exit_1_and_reads_the_floor_from_pyproject(before_after, tmp_path: Path) -> None:
    repo, _, after, _ = before_after
    score = after["scores"]["ml_test_score"]
    ok = shipyard("doctor", repo, "--fail-under", str(score), "--no-plugins")
    assert ok.returncode == 0, ok.stderr
    low = shipyard("doctor", repo, "--fail-under", str(score + 0.5), "--no-plugins")
    assert low.returncode == 1
    assert f"ML Test Score {score:g} is below the floor {score + 0.5:g}" in low.stdout
    # the generated pyproject.toml carries the project's floor; doctor applies it with no flag
    assert 'fail-under = 2.0' in (repo / "pyproject.toml").read_text()
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "pyproject.toml").write_text('[tool.shipyard.doctor]\nfail-under = 1\nfail-under-governance = 50\n')
    done = shipyard("doctor", bare, "--format", "json", "--output", bare / "r.json", "--no-plugins")
    assert done.returncode == 1
    doc = json.loads((bare / "r.json").read_text())  # the report is written even when the gate fails
    assert doc["floors"]["fail_under"] == 1 and len(doc["floors"]["below"]) == 2
    assert "below the floor: governance 0% is below the floor 50%" in done.stderr


def test_select_and_ignore_by_id_pattern_and_family(before_after) -> None:
    repo, _, _, _ = before_after

    def ids(*args: str) -> list[str]:
        done = shipyard("doctor", repo, "--format", "json", "--no-plugins", *args, check=True)
        return [c["id"] for c in json.loads(done.stdout)["checks"]]

    assert ids("--select", "gov-*") == [c.id for c in all_checks(plugins=False)[0] if c.family == "governance"]
    assert ids("--select", "data-1,model-3") == ["data-1", "model-3"]
    got = ids("--ignore", "monitoring", "--ignore", "del-*")
    assert not any(i.startswith(("monitor-", "del-")) for i in got) and "data-1" in got
    partial_run = json.loads(shipyard("doctor", repo, "--format", "json", "--select", "delivery",
                                      "--no-plugins", check=True).stdout)
    assert partial_run["scores"]["ml_test_score"] is None and partial_run["scores"]["delivery"] is not None
    none = shipyard("doctor", repo, "--select", "nothing-matches")
    assert none.returncode == 2 and "leave no check to run" in none.stderr


def test_config_table_selects_ignores_and_rejects_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.shipyard.doctor]\nignore = ["governance", "model-7"]\n')
    doc = json.loads(shipyard("doctor", tmp_path, "--format", "json", "--no-plugins", check=True).stdout)
    got = {c["id"] for c in doc["checks"]}
    assert "model-7" not in got and not any(i.startswith("gov-") for i in got) and "model-6" in got
    (tmp_path / "pyproject.toml").write_text('[tool.shipyard.doctor]\nfail_under = 2\n')
    bad = shipyard("doctor", tmp_path)
    assert bad.returncode == 4
    assert bad.stderr.count("\n") == 1 and "unknown key 'fail_under'" in bad.stderr and "fail-under" in bad.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.shipyard.doctor]\nselect = "data-1"\n')
    assert shipyard("doctor", tmp_path).returncode == 4


def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = shipyard("doctor", tmp_path, "--format", "pdf")
    assert done.returncode == 2 and "unknown format 'pdf'" in done.stderr
    missing = shipyard("doctor", tmp_path / "nope")
    assert missing.returncode == 4 and "no such folder" in missing.stderr


def test_markdown_and_table_list_every_check_with_its_result(before_after) -> None:
    repo, _, after, _ = before_after
    md = shipyard("doctor", repo, "--format", "markdown", "--no-plugins", check=True).stdout
    table = shipyard("doctor", repo, "--no-plugins", check=True).stdout
    for item in after["checks"]:
        assert f"| `{item['id']}` " in md
        assert item["id"] in table
    assert f"ML Test Score: **{after['scores']['ml_test_score']:g}**" in md
    assert after["band"] in table


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):  # noqa: ANN001
        self.text.append(data)


def test_html_is_one_self_contained_file_with_a_bar_per_family_and_every_failing_fix(before_after,
                                                                                     tmp_path: Path) -> None:
    repo, _, after, _ = before_after
    out = tmp_path / "readiness.html"
    shipyard("doctor", repo, "--format", "html", "--output", out, "--no-plugins", check=True)
    parser = _Collect()
    parser.feed(out.read_text(encoding="utf-8"))
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags and "link" not in tags, "no scripts or external stylesheets"
    assert not [a for _, a in parser.tags if any(str(v).startswith(("http:", "https:", "//"))
                                                for k, v in a.items() if k in ("src", "href"))]
    bars = [a for t, a in parser.tags if t == "rect" and a.get("fill") != "#eee"]
    assert len(bars) == len(after["families"])
    text = "".join(parser.text)
    for item in after["checks"]:
        if item["result"] in ("fail", "partial"):
            assert item["message"] in text and (not item["fix"] or item["fix"] in text), item["id"]


def test_a_check_that_raises_is_reported_in_its_row_and_the_audit_goes_on(tmp_path: Path) -> None:
    @check("test-broken", family="testing", title="A check with a bug")
    def broken(repo):  # noqa: ANN001, ANN202
        """Raises."""
        raise RuntimeError("boom")

    @check("test-unknown-input", family="testing", title="Asks for an input nobody provides")
    def unknown(no_such_input):  # noqa: ANN001, ANN202
        """Asks for a missing input."""
        return passed("never")

    try:
        result = audit(tmp_path, DoctorConfig(select=("testing",)))
        rows = {r.check.id: r for r in result.results}
        assert rows["test-broken"].outcome.result.value == "fail"
        assert "the check itself failed: RuntimeError: boom" in rows["test-broken"].outcome.message
        assert rows["test-broken"].error == "RuntimeError"
        assert "unknown input 'no_such_input'" in rows["test-unknown-input"].outcome.message
    finally:
        _REGISTRY.pop("test-broken", None)
        _REGISTRY.pop("test-unknown-input", None)


def test_inputs_are_computed_once_per_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shipyard.checks import inputs

    calls = []
    real = inputs.Repo.scan
    monkeypatch.setattr(inputs.Repo, "scan", classmethod(lambda cls, root: calls.append(root) or real(root)))
    result = audit(tmp_path, DoctorConfig(plugins=False))
    assert len(result.results) > 40 and len(calls) == 1


def test_doctor_never_runs_the_projects_code(tmp_path: Path) -> None:
    canary = tmp_path / "ran"
    code = f"open({str(canary)!r}, 'w').write('x')\n"
    for rel in ("conftest.py", "setup.py", "src/pkg/__init__.py", "tests/test_x.py", "noxfile.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(code)
    (tmp_path / "Makefile").write_text(f"test:\n\ttouch {canary}\n")
    shipyard("doctor", tmp_path, "--no-plugins", check=False)
    assert not canary.exists()


def test_a_plugin_installed_in_the_environment_shows_up_in_the_results(before_after, tmp_path: Path) -> None:
    repo, _, _, _ = before_after
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                           str(PLUGIN)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT / "generator")])}
    listed = subprocess.run([sys.executable, "-m", "shipyard", "doctor", "--list-checks"], capture_output=True,
                            text=True, env=env, check=True).stdout
    assert "acme-runbook" in listed and "[acme_readiness]" in listed
    doc = json.loads(subprocess.run([sys.executable, "-m", "shipyard", "doctor", str(repo), "--format", "json"],
                                    capture_output=True, text=True, env=env).stdout)
    rows = {c["id"]: c for c in doc["checks"]}
    assert rows["acme-runbook"]["family"] == "acme" and rows["acme-runbook"]["origin"] == "acme_readiness"
    assert rows["acme-runbook"]["result"] == "fail" and "on_call.runbook" in rows["acme-runbook"]["message"]
    assert doc["scores"]["acme"] == 0.0 and not doc["plugin_errors"]
    jsonschema.validate(doc, SCHEMA)
    without = json.loads(subprocess.run([sys.executable, "-m", "shipyard", "doctor", str(repo), "--format", "json",
                                         "--no-plugins"], capture_output=True, text=True, env=env).stdout)
    assert "acme-runbook" not in {c["id"] for c in without["checks"]}


def test_fleet_status_shows_each_projects_scores(before_after, tmp_path: Path) -> None:
    repo, _, after, _ = before_after
    doc = json.loads(shipyard("fleet", "status", repo, "--json", check=True).stdout)
    (project,) = doc["projects"]
    assert project["readiness"] == after["scores"]
    table = shipyard("fleet", "status", repo, check=True).stdout
    assert "ml-test-score" in table.splitlines()[0]
    assert f"{after['scores']['governance']:g}%" in table
    quick = json.loads(shipyard("fleet", "status", repo, "--json", "--no-readiness", check=True).stdout)
    assert quick["projects"][0]["readiness"] is None


def test_a_notebook_counts_by_its_code_cells_and_a_comment_is_not_a_practice(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["We could tune with GridSearchCV later.\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [
            {"output_type": "stream", "name": "stdout", "text": ["feature_importances_ of RFECV\n"]}],
         "source": ["import pandas as pd\n", "# TODO: GridSearchCV\n", "df = pd.read_csv('d.csv')\n"]},
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "a.ipynb").write_text(json.dumps(nb))
    (tmp_path / "m.py").write_text("x = 1  # permutation_importance would help\n")
    result = audit(tmp_path, DoctorConfig(select=("model-3", "data-2"), plugins=False))
    assert [r.outcome.result.value for r in result.results] == ["fail", "fail"]
    cells.append({"cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [],
                  "source": ["from sklearn.model_selection import GridSearchCV\n", "s = GridSearchCV(m, grid)\n"]})
    (tmp_path / "a.ipynb").write_text(json.dumps(nb))
    (row,) = audit(tmp_path, DoctorConfig(select=("model-3",), plugins=False)).results
    assert row.outcome.result.value == "partial"
    (ev,) = row.outcome.evidence
    assert (ev.path, ev.cell, ev.line) == ("a.ipynb", 3, 1) and ev.where() == "a.ipynb, cell 3, line 1"


def test_a_project_in_a_monorepo_folder_is_under_version_control(tmp_path: Path) -> None:
    sub = tmp_path / "mono" / "models" / "churn"
    sub.mkdir(parents=True)
    (sub / "train.py").write_text("print(1)\n")
    (row,) = audit(sub, DoctorConfig(select=("model-1",), plugins=False)).results
    assert row.outcome.result.value == "fail" and "not a git repository" in row.outcome.message
    subprocess.run(["git", "init", "-q", str(tmp_path / "mono")], check=True)
    (row,) = audit(sub, DoctorConfig(select=("model-1",), plugins=False)).results
    assert row.outcome.result.value == "partial"
