"""`python -m <package> report` in a generated project: the prediction log, the registry, the drift report and
OWNERSHIP.yaml's success metrics, summed up over a window.

A rendered project trains a baseline (v1, promoted) and the notebook's model (v2, challenger) for real. Then
the project's own service (create_app, on uvicorn, on 127.0.0.1, in this process) is sent a known sequence of
requests over simulated days: the clock is moved with time-machine, which the service's log reads through
`metrics.now()`, and promote / rollback run at simulated times too. The report, run as the CLI, must count
exactly what was sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import re
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
import time_machine  # a dev dependency: missing, this module must fail, not skip
from runtime_harness import CLASSIFIER_MODULE, churn_data, free_port, make_project, show

pytestmark = pytest.mark.e2e

PACKAGE = "report_demo"
GO_LIVE = dt.date(2030, 1, 1)
UNTIL = "2030-03-07"  # day 65
RECORD = {"tenure": 5, "monthly_charges": 99.5, "support_calls": 3, "plan": "basic"}
BAD = {**RECORD, "tenure": "five"}  # breaks (tenure, type) and nothing else

OWNERSHIP_TRACKED = """\
  go_live: 2030-01-01
  tracked:
    - name: adoption
      source: requests_per_day
      direction: at_least
      target_30: 3
      target_60: 2
      target_90: 5
      reported_by: report
    - name: valid inputs
      source: invalid_input_rate
      direction: at_most
      target_30: 0.1
      target_60: 0.2
      target_90: 0.1
    - name: latency
      source: latency_p95_ms
      target_30: 10000
      target_60: 10000
      target_90: 10000
    - name: failed requests
      source: error_rate
      direction: at_most
      target_30: "TODO: agree on it"
      target_60: 0
      target_90: 0
    - name: churn prevented
      source: external
      target_30: 100
      target_60: 200
      target_90: 300
      reported_by: retention team
"""


def day(n: int, hour: int = 10) -> dt.datetime:
    """Day n after go-live, at `hour`:00 UTC."""
    return dt.datetime.combine(GO_LIVE + dt.timedelta(days=n), dt.time(hour), dt.timezone.utc)  # noqa: UP017


@contextlib.contextmanager
def serving(app) -> Iterator[httpx.Client]:
    """The app on uvicorn on a free port of 127.0.0.1, in a thread; a client for it."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/ready").status_code == 200
            yield client
    finally:
        server.should_exit = True
        thread.join(30)


def send(client: httpx.Client, valid: int = 0, invalid: int = 0, malformed: int = 0) -> None:
    for _ in range(valid):
        r = client.post("/predict", json={"records": [RECORD, {**RECORD, "plan": "premium"}]})
        assert r.status_code == 200, r.text
    for _ in range(invalid):
        assert client.post("/predict", json={"records": [BAD]}).status_code == 422
    for _ in range(malformed):
        assert client.post("/predict", content=b"not json").status_code == 422


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """v1 (baseline) promoted and v2 (notebook) challenger, at real time; a drift report; go-live 2030-01-01."""
    root = tmp_path_factory.mktemp("report") / "report-demo"
    proj = make_project(root, package=PACKAGE, df=churn_data(), data_rel="data/customers.csv", target="churned",
                        module_source=CLASSIFIER_MODULE)
    for args in (("train", "--baseline"), ("promote",), ("train",), ("drift", "data/customers.csv")):
        done = proj.run(*args)
        assert done.returncode == 0, show(done)
    assert proj.aliases() == {"champion": "1", "challenger": "2"}
    ownership = root / "OWNERSHIP.yaml"
    text = ownership.read_text(encoding="utf-8")
    start, end = text.index("  go_live:"), text.index("\n# What users get")
    ownership.write_text(text[:start] + OWNERSHIP_TRACKED + text[end:], encoding="utf-8")
    return proj


@pytest.fixture(scope="module")
def package(project):
    """The generated package imported in this process (its settings find the project's root by themselves)."""
    src = str(project.root / "src")
    with pytest.MonkeyPatch.context() as mp:
        for key in ("MLFLOW_TRACKING_URI", f"{PACKAGE.upper()}_PROJECT_ROOT", f"{PACKAGE.upper()}_PREDICTION_LOG"):
            mp.delenv(key, raising=False)
        mp.syspath_prepend(src)
        yield {name: importlib.import_module(f"{PACKAGE}.{name}") for name in ("service", "registry", "settings",
                                                                               "metrics")}
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def simulated(project, package):
    """The known sequence: requests on days 23-29, 53-59 and 58-63 after go-live, promote on day 58, rollback on
    day 61 (both in the weekly window that ends on day 65)."""
    service, registry, S = package["service"], package["registry"], package["settings"]
    settings = S.Settings.load()
    assert settings.prediction_log == project.root / "logs" / "predictions.jsonl"
    with time_machine.travel(day(23), tick=True) as clock:
        with serving(service.create_app(settings=settings)) as client:  # champion v1
            for n in range(23, 30):  # the day-30 window: 3 valid + 1 invalid a day
                clock.move_to(day(n))
                send(client, valid=3, invalid=1)
            for n in range(53, 58):  # the day-60 window: 1 valid a day (and days 58, 59 below)
                clock.move_to(day(n))
                send(client, valid=1)
        clock.move_to(day(58, 8))
        assert registry.promote(settings) == 0
        with serving(service.create_app(settings=settings)) as client:  # champion v2
            clock.move_to(day(58))
            send(client, valid=1)
            clock.move_to(day(59))
            send(client, valid=1, invalid=1)
        clock.move_to(day(61, 8))
        assert registry.rollback(settings) == 0
        with serving(service.create_app(settings=settings)) as client:  # champion v1 again
            for n, malformed in ((61, 0), (62, 1), (63, 0)):
                clock.move_to(day(n))
                send(client, valid=2, malformed=malformed)
    log = settings.prediction_log
    assert len(log.read_text(encoding="utf-8").splitlines()) == 28 + 5 + 3 + 7
    return log


def report_json(project, *args: str, **env: str) -> dict:
    done = project.run("report", "--until", UNTIL, "--format", "json", *args, **env)
    assert done.returncode == 0, show(done)
    return json.loads(done.stdout)


def test_the_week_counts_what_was_sent(project, simulated):
    r = report_json(project, "--since", "7d")
    assert r["schema_version"] == 1 and r["package"] == PACKAGE
    assert r["window"] == {"since": "2030-02-28T00:00:00Z", "until": "2030-03-07T00:00:00Z", "days": 7}
    assert [(d["date"], d["requests"], d["success"], d["invalid"], d["error"], d["rows"]) for d in r["per_day"]] == [
        ("2030-02-28", 1, 1, 0, 0, 2),
        ("2030-03-01", 2, 1, 1, 0, 2),
        ("2030-03-02", 0, 0, 0, 0, 0),
        ("2030-03-03", 2, 2, 0, 0, 4),
        ("2030-03-04", 3, 2, 1, 0, 4),
        ("2030-03-05", 2, 2, 0, 0, 4),
        ("2030-03-06", 0, 0, 0, 0, 0),
    ]
    assert r["requests"] == {"total": 10, "success": 8, "invalid": 2, "error": 0, "rows": 16, "rows_rejected": 1}
    assert r["invalid"]["rate"] == pytest.approx(0.2)
    assert sorted((b["column"] or "", b["rule"], b["requests"], b["violations"]) for b in r["invalid"]["by_rule"]) == [
        ("", "schema", 1, 1), ("tenure", "type", 1, 1)]
    assert all(b["rate"] == pytest.approx(0.1) for b in r["invalid"]["by_rule"])
    assert r["error_rate"] == 0
    lat = r["latency_ms"]
    assert lat["count"] == 8 and 0 < lat["p50"] <= lat["p95"] <= lat["p99"] < 10000
    assert [(s["version"], s["requests"]) for s in r["models"]["served"]] == [("2", 3), ("1", 7)]
    reg = r["models"]["registry"]
    assert reg["status"] == "ok" and (reg["champion"], reg["challenger"]) == ("1", "2")
    assert [(e["ts"][:13], e["action"], e["version"], e["from"]) for e in reg["events"]] == [
        ("2030-02-28T08", "promote", "2", "1"), ("2030-03-03T08", "rollback", "1", "2")]
    assert reg["registered"] == []  # v1 and v2 were registered at real time, long before 2030
    assert r["log"]["records"] == 43 and r["log"]["skipped_lines"] == 0 and len(r["log"]["files"]) == 1


def test_success_metrics_at_day_30_60_90(project, simulated):
    sm = report_json(project)["success_metrics"]
    assert sm["anchor"]["date"] == "2030-01-01" and sm["anchor"]["source"] == "go_live"
    assert sm["window_days"] == 7 and sm["message"] is None
    got = {m["name"]: [ms["status"] for ms in m["milestones"]] for m in sm["metrics"]}
    assert got == {
        "adoption": ["met", "missed", "not yet due"],
        "valid inputs": ["missed", "met", "not yet due"],
        "latency": ["met", "met", "not yet due"],
        "failed requests": ["needs a target", "met", "not yet due"],
        "churn prevented": ["needs a data source"] * 3,
    }
    by_name = {m["name"]: m for m in sm["metrics"]}
    adoption = by_name["adoption"]["milestones"]
    assert [ms["value"] for ms in adoption[:2]] == [pytest.approx(28 / 7), pytest.approx(8 / 7)]
    assert (adoption[0]["since"], adoption[0]["until"]) == ("2030-01-24T00:00:00Z", "2030-01-31T00:00:00Z")
    assert [ms["date"] for ms in adoption] == ["2030-01-31", "2030-03-02", "2030-04-01"]
    assert [ms["value"] for ms in by_name["valid inputs"]["milestones"][:2]] == [pytest.approx(0.25),
                                                                               pytest.approx(0.125)]
    assert by_name["latency"]["direction"] == "at_most"  # the default for a latency
    assert "reported_by" in by_name["churn prevented"]["milestones"][0]["note"]
    assert by_name["churn prevented"]["reported_by"] == "retention team"


def test_without_a_go_live_date_day_0_is_the_first_request(project, simulated):
    ownership = project.root / "OWNERSHIP.yaml"
    text = ownership.read_text(encoding="utf-8")
    try:
        ownership.write_text(text.replace("go_live: 2030-01-01", 'go_live: "TODO: YYYY-MM-DD"'), encoding="utf-8")
        sm = report_json(project)["success_metrics"]
    finally:
        ownership.write_text(text, encoding="utf-8")
    assert sm["anchor"]["source"] == "first_request" and sm["anchor"]["date"] == "2030-01-24"
    assert "first logged request" in sm["anchor"]["note"]
    got = {m["name"]: [ms["status"] for ms in m["milestones"]] for m in sm["metrics"]}
    # day 30 = 2030-02-23, judged on 02-16..02-22: nothing was sent then; day 60 = 2030-03-25 is after --until
    assert got["adoption"] == ["missed", "not yet due", "not yet due"]
    assert got["valid inputs"] == ["no data", "not yet due", "not yet due"]


def test_drift_and_the_generated_ownership_defaults(project, simulated, tmp_path):
    r = report_json(project)
    drift = r["drift"]
    written = json.loads((project.root / "reports" / "drift_report.json").read_text(encoding="utf-8"))
    assert drift["status"] == written["status"] == "ok"
    assert {f["feature"]: f["psi"] for f in drift["features"]} == {f["feature"]: f["psi"] for f in written["features"]}
    assert {"tenure", "monthly_charges", "support_calls", "plan", "prediction"} == {f["feature"] for f in drift["features"]}
    none = report_json(project, "--drift-report", str(tmp_path / "none.json"))["drift"]
    assert none["status"] == "none" and none["message"] == f"no drift report yet: run `python -m {PACKAGE} drift FILE`"


def test_markdown_and_one_self_contained_html_file(project, simulated, tmp_path):
    md = project.run("report", "--until", UNTIL)
    assert md.returncode == 0, show(md)
    assert "## Success metrics" in md.stdout and "| adoption | requests_per_day | at least | met (4)" in md.stdout
    assert "| 2030-03-04 | 3 | 2 | 1 | 0 | 4 |" in md.stdout
    assert "promote to v2 (from v1)" in md.stdout and "rollback to v1 (from v2)" in md.stdout
    out = tmp_path / "weekly" / "weekly.html"
    done = project.run("report", "--until", UNTIL, "--format", "html", "--output", str(out))
    assert done.returncode == 0, show(done)
    assert done.stdout.startswith(f"report: {out} (10 request(s)")
    page = out.read_text(encoding="utf-8")
    assert [p.name for p in out.parent.iterdir()] == ["weekly.html"]
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    assert len(svgs) == 3  # requests per day, latency per day, PSI per feature
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    assert "<script" not in page and "href=" not in page and "src=" not in page and "<link" not in page
    assert "needs a data source" in page and "tenure" in page


def test_missing_log_exits_2_with_one_line(project, tmp_path):
    missing = tmp_path / "nowhere" / "predictions.jsonl"
    done = project.run("report", "--log", str(missing))
    assert done.returncode == 2
    assert done.stderr == f"error: no prediction log at {missing}: serve the model first or pass --log\n"
    assert done.stdout == ""


def test_a_torn_last_line_and_garbage_are_skipped_and_counted(project, simulated, tmp_path):
    lines = simulated.read_bytes().splitlines(keepends=True)
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(b"".join(lines[:5]) + b"\xff\xfe not json\n" + b"[1, 2]\n" + b"".join(lines[5:])
                     + lines[-1][: len(lines[-1]) // 2])
    r = report_json(project, "--log", str(torn), "--since", "2030-01-01")
    assert r["log"]["skipped_lines"] == 3 and r["log"]["records"] == 43
    assert r["requests"]["total"] == 43
    done = project.run("report", "--log", str(torn), "--until", UNTIL, "--output", str(tmp_path / "torn.md"))
    assert done.returncode == 0 and "3 unreadable log line(s) skipped" in done.stdout, show(done)


def test_rotated_backups_are_read(project, package, simulated, tmp_path):
    """The log written by the project's own PredictionLog with a tiny size limit: every backup counts."""
    entries = [json.loads(line) for line in simulated.read_text(encoding="utf-8").splitlines()]
    path = tmp_path / "rotated" / "predictions.jsonl"
    writer = package["metrics"].PredictionLog(path, max_bytes=2000, backups=50)
    for entry in entries:
        writer.write(entry)
    writer.close()
    files = sorted(p.name for p in path.parent.iterdir() if p.suffix != ".lock")  # not the writers' lock file
    assert len(files) > 5 and "predictions.jsonl.1" in files and "predictions.jsonl" in files
    assert (path.parent / "predictions.jsonl.lock").exists()
    r = report_json(project, "--log", str(path), "--since", "2030-01-01")
    assert len(r["log"]["files"]) == len(files)
    assert r["requests"] == {"total": 43, "success": 34, "invalid": 9, "error": 0, "rows": 68, "rows_rejected": 8}
    assert r["models"]["served"][0]["version"] == "1" and r["models"]["served"][0]["requests"] == 28 + 5 + 7
    week = report_json(project, "--log", str(path))
    assert week["requests"]["total"] == 10


def test_an_unreachable_registry_is_reported_not_fatal(project, simulated):
    started = time.monotonic()
    r = report_json(project, MLFLOW_TRACKING_URI=f"http://127.0.0.1:{free_port()}")
    assert time.monotonic() - started < 60
    reg = r["models"]["registry"]
    assert reg["status"] == "unreachable" and reg["message"].startswith("the registry could not be read")
    assert r["requests"]["total"] == 10  # the rest is reported


def test_window_options(project, simulated):
    assert report_json(project, "--since", "2d")["window"]["since"] == "2030-03-05T00:00:00Z"
    assert report_json(project, "--since", "36h")["window"]["since"] == "2030-03-05T12:00:00Z"
    two_weeks = report_json(project, "--since", "2w")
    assert two_weeks["window"]["days"] == 14 and two_weeks["requests"]["total"] == 15
    bad = project.run("report", "--since", "last week")
    assert bad.returncode == 2 and "--since 'last week' is not a date" in bad.stderr


def test_help_lists_report(project):
    done = project.run("--help")
    assert done.returncode == 0 and "report" in done.stdout
    done = project.run("report", "--help")
    assert done.returncode == 0 and "--since" in done.stdout and "--log" in done.stdout


def test_the_generated_ownership_file_tracks_sensible_defaults(tmp_path):
    import yaml

    root = make_project(tmp_path / "defaults", package="defaults_demo", df=churn_data(n=50), data_rel="data/c.csv",
                        target="churned").root
    sm = yaml.safe_load((root / "OWNERSHIP.yaml").read_text(encoding="utf-8"))["success_metrics"]
    assert str(sm["go_live"]).startswith("TODO:")
    assert [m["day"] for m in sm["milestones"]] == [30, 60, 90] and sm["business"]
    sources = {m["source"]: m for m in sm["tracked"]}
    assert {"requests_per_day", "invalid_input_rate", "latency_p95_ms", "error_rate", "external"} <= set(sources)
    assert sources["requests_per_day"]["direction"] == "at_least"
    assert sources["invalid_input_rate"]["direction"] == sources["latency_p95_ms"]["direction"] == "at_most"
    for m in sm["tracked"]:
        assert {"name", "source", "direction", "target_30", "target_60", "target_90", "reported_by"} <= set(m)
