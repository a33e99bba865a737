"""Command line: `python -m <package> <command>`. The only module that prints; heavy imports inside commands."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from . import settings as S
from .errors import ProjectError

COMMANDS = {
    "train": "train the notebook model and a baseline, log both to MLflow, register the better one as challenger",
    "promote": "make the challenger the champion if it beats the baseline and the champion and meets the floor",
    "rollback": "point the champion alias back to the previous champion",
    "serve": "run the HTTP prediction service (FastAPI + uvicorn) with the champion",
    "predict": "score a data file (or, with --engine spark, a table) in batch with the champion",
    "request-example": "print a /predict request body made of rows the champion was trained on",
    "check-data": "check a data file (default: the training data) against the data contract",
    "drift": "PSI drift of a data file (and its predictions) against the champion's training profile",
    "check-ownership": "check OWNERSHIP.yaml has real owners (required once lifecycle is production)",
    "report": "usage, invalid inputs, latency, drift, models and the success metrics' 30/60/90-day status",
}
REPORT_EPILOG = """\
Reads the prediction log (and its rotated backups), the registry, reports/drift_report.json and
OWNERSHIP.yaml's success_metrics. --since and --until take an ISO date (00:00 UTC) or date-time;
--since also takes Nd, Nh or Nw before --until. Exit 2 when there is no prediction log.
"""
TRAIN_EPILOG = """\
The notebook's code runs in a scratch copy of the project, in the copy of the notebook's folder (as in
Jupyter); nothing it writes reaches the project. Progress is shown per cell.

--from-file loads a model file with pickle/joblib: loading a pickle runs code, so only a file committed
in this git repository (and unchanged since) is loaded. Review it like code before committing it.
"""


PREDICT_EPILOG = """\
Each row is checked as the service checks a request (the model's column types, the data contract's
row rules). The rows that pass are scored and written to OUTPUT with `prediction` (and `probability`
for a binary classifier); the others go to the rejects with reject_rule, reject_column and
reject_message. Exit 0 when rows were scored, rejects or not; 1 when every row was rejected, or any
with --fail-on-rejects; 2 a usage error (no model, an input Spark cannot read as the project does).
"""
EXIT_EPILOG = """\
exit codes: 0 done; 1 refused (a gate, a check, nothing to roll back); 2 usage or configuration error; 3 the
notebook's code failed or timed out; 69 the registry is unreachable; 75 registry busy (another train, promote or
rollback holds it: try again); 70 unexpected error.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {S.PACKAGE}",
                                     description=f"{S.PROJECT_NAME}: train, promote, serve and monitor the model.",
                                     epilog=EXIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    p = sub.add_parser("train", help=COMMANDS["train"], description=COMMANDS["train"], epilog=TRAIN_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", action="store_true", help="train and register the baseline alone")
    p.add_argument("--sample", type=int, default=None, help="train on a random sample of N rows")
    p.add_argument("--from-file", nargs="?", const=S.MODEL_FILE, default=None, metavar="PATH",
                   help="evaluate and register a committed model file instead of re-running the notebook "
                        f"(default PATH: {S.MODEL_FILE or 'none found at adoption'})")
    p.add_argument("--max-minutes", type=float, default=None, metavar="N",
                   help="stop if training takes longer than N minutes, naming the cell that was running")
    p.add_argument("--show-output", action="store_true", help="show what the notebook's code prints")
    p.add_argument("--keep-going", action="store_true",
                   help="run the next cell when one fails (say which), as Jupyter's run-all ignoring errors")
    sub.add_parser("promote", help=COMMANDS["promote"], description=COMMANDS["promote"])
    sub.add_parser("rollback", help=COMMANDS["rollback"], description=COMMANDS["rollback"])
    p = sub.add_parser("serve", help=COMMANDS["serve"], description=COMMANDS["serve"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help=f"worker processes, each loading the model (default: {S.ENV_PREFIX}_WORKERS or 1; "
                        "in Kubernetes keep 1 and scale pods)")
    p = sub.add_parser("predict", help=COMMANDS["predict"], description=COMMANDS["predict"], epilog=PREDICT_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="INPUT", help="a CSV/Parquet file (with --engine spark: also a folder, a URI or "
                                                 "a table name)")
    p.add_argument("output_arg", nargs="?", default=None, metavar="OUTPUT",
                   help="where the scored rows go (default: <input>.predictions.csv or .parquet)")
    p.add_argument("--output", "-o", default=None, help="the same as OUTPUT")
    p.add_argument("--engine", choices=("pandas", "spark"), default="pandas",
                   help="pandas (default): in this process; spark: on Spark (local[*], spark-submit's master or "
                        f"{S.ENV_PREFIX}_SPARK_MASTER)")
    p.add_argument("--rejects", default=None, metavar="PATH",
                   help="where the rows that break a rule go (default: <output>.rejects.<ext>)")
    p.add_argument("--fail-on-rejects", action="store_true", help="exit 1 when any row was rejected")
    p = sub.add_parser("request-example", help=COMMANDS["request-example"], description=COMMANDS["request-example"])
    p.add_argument("--rows", type=int, default=3)
    p = sub.add_parser("check-data", help=COMMANDS["check-data"], description=COMMANDS["check-data"])
    p.add_argument("file", nargs="?", default=None)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--contract", default=None, help="contract path (default: contracts/<dataset>.odcs.yaml)")
    p.add_argument("--snapshot", default=None, metavar="PARQUET",
                   help="also write the training table, as the project reads it, to PARQUET (for datacontract-cli)")
    p = sub.add_parser("drift", help=COMMANDS["drift"], description=COMMANDS["drift"])
    p.add_argument("file")
    p.add_argument("--report-dir", default=None, help="where drift_report.md/.html go (default: reports/)")
    p = sub.add_parser("check-ownership", help=COMMANDS["check-ownership"], description=COMMANDS["check-ownership"])
    p.add_argument("--file", default=None, help="OWNERSHIP.yaml path")
    p = sub.add_parser("report", help=COMMANDS["report"], description=COMMANDS["report"], epilog=REPORT_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--since", default="7d", metavar="WHEN",
                   help="start of the window: Nd, Nh, Nw before --until, or YYYY-MM-DD (default: 7d)")
    p.add_argument("--until", default=None, metavar="WHEN", help="end of the window (default: now)")
    p.add_argument("--format", choices=("markdown", "html", "json"), default="markdown",
                   help="markdown (default), html (one self-contained file with plots) or json")
    p.add_argument("--output", "-o", default=None, metavar="FILE", help="write the report here (default: stdout)")
    p.add_argument("--log", default=None, metavar="FILE",
                   help="prediction log (default: the service's, logs/predictions.jsonl)")
    p.add_argument("--drift-report", default=None, metavar="FILE",
                   help="drift_report.json to show (default: reports/drift_report.json)")
    return parser


def _progress(stream):
    """Per-cell progress on ``stream`` (bound now: the notebook's own output is captured meanwhile)."""
    tty = stream.isatty()

    def show(event) -> None:
        name = f"cell {event.index}/{event.total}" + (f" (notebook cell {event.number})" if event.number else "")
        if tty:
            state = "done" if event.done else "running"
            end = "\n" if event.done and event.index == event.total else ""
            print(f"\r  {name} {state}, {event.elapsed:.1f}s   ", end=end, file=stream, flush=True)
        elif event.done and (event.seconds >= 0.5 or event.index == event.total):
            print(f"  {name} took {event.seconds:.1f}s ({event.elapsed:.1f}s in all)", file=stream, flush=True)

    return show


def _train(args) -> int:
    from .train import train

    if args.from_file == "":
        raise ProjectError("no model file was found at adoption: give --from-file PATH",
                           "PATH is a model file committed in this repository (joblib, pickle, .json, .ubj, .cbm)",
                           exit_code=2)

    train(baseline_only=args.baseline, sample=args.sample, from_file=args.from_file, max_minutes=args.max_minutes,
          echo=print, progress=_progress(sys.stderr), show_output=args.show_output, keep_going=args.keep_going)
    return 0


def _check_data(args) -> int:
    from . import check_data

    try:
        if args.snapshot:
            path = check_data.snapshot(args.snapshot)
            if not args.json:
                print(f"check-data: wrote {path}")
        report = check_data.run(args.file, args.contract)
    except ProjectError as exc:
        if args.json:
            print(json.dumps({"file": args.file, "ok": False, "error": exc.message}))
            return exc.exit_code
        raise
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
        return 0 if report.ok else 1
    print(f"check-data: {report.file} against {report.contract}")
    print(f"{report.rows} rows, {report.columns} columns, {report.contract_columns} columns in the contract")
    if report.ok:
        print("OK: every rule of the contract holds.")
        return 0
    width = max(len(v.column) for v in report.violations)
    rule_width = max(len(v.rule) for v in report.violations)
    print(f"{len(report.violations)} rule(s) broken:")
    for v in report.violations:
        examples = f"  e.g. {', '.join(repr(e) for e in v.as_dict()['examples'])}" if v.examples else ""
        print(f"  {v.column:<{width}}  {v.rule:<{rule_width}}  {v.count:>7}  {v.message}{examples}")
    if report.draft:
        print("The contract is a draft inferred from the training data: fix the data or edit the contract.")
    return 1


def _drift(args) -> int:
    from .drift import thresholds
    from .monitoring import run

    result = run(args.file, args.report_dir)
    if result.scoring_error:
        print(f"warning: could not score {args.file} for prediction drift: {result.scoring_error}", file=sys.stderr)
    for r in result.rows[:10]:
        print(f"  {r['feature']:<30} PSI {r['psi']:>8.4f}  {r['status']}")
    alerts, warns = result.alerts(), result.warnings()
    print(f"drift: {len(alerts)} alert(s), {len(warns)} warning(s) over {len(result.rows)} column(s); "
          f"reports: {result.md_path}, {result.html_path}, {result.json_path}")
    if alerts:
        print(f"ALERT: PSI >= {thresholds()[1]} for {', '.join(alerts)}")
        return 1
    return 0


def _ownership(args) -> int:
    from .ownership import check

    result = check(args.file)
    if not result.found:
        print(f"error: {result.file} not found; ownership is part of production readiness", file=sys.stderr)
        return 1
    listing = "\n".join(f"  - {m}" for m in result.placeholders)
    if not result.placeholders:
        print(f"ownership: OK ({result.file.name}, lifecycle {result.lifecycle})")
    elif result.lifecycle == "production":
        print(f"ownership: FAIL - lifecycle is production but these fields are empty or placeholders:\n{listing}")
    else:
        print(f"ownership: warning - placeholders (fill before lifecycle: production):\n{listing}")
    return 0 if result.ok else 1


def _report(args) -> int:
    from pathlib import Path

    from .report import build
    from .report_render import render

    report = build(since=args.since, until=args.until, log_path=args.log, drift_path=args.drift_report)
    text = render(report, args.format)
    if not args.output:
        print(text, end="")
        return 0
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    req = report["requests"]
    print(f"report: {out} ({req['total']} request(s) from {report['window']['since']} to {report['window']['until']}"
          + (f"; {report['log']['skipped_lines']} unreadable log line(s) skipped" if report["log"]["skipped_lines"]
             else "") + ")")
    return 0


def _example(args) -> int:
    from . import registry

    bundle = registry.load_bundle()
    if not bundle.example:
        raise ProjectError(f"model version {bundle.version} was logged without example rows", "retrain it")
    print(json.dumps({"records": bundle.example[: max(args.rows, 1)]}, ensure_ascii=False))
    return 0


def _predict(args) -> int:
    from .batch import exit_code

    if args.output and args.output_arg and args.output != args.output_arg:
        raise ProjectError(f"two outputs: {args.output_arg} and --output {args.output}", "give one", exit_code=2)
    output = args.output or args.output_arg
    if args.engine == "spark":
        from .spark_scoring import run
    else:
        from .batch import run
    result = run(args.file, output, args.rejects)
    print(f"scored {result.rows} row(s) with {result.model}: {result.output}; {result.rejected} row(s) rejected: "
          f"{result.rejects}")
    return exit_code(result, args.fail_on_rejects)


def _serve(args) -> int:
    from .serving import serve

    return serve(args.host, args.port, args.workers, echo=lambda text: print(text, flush=True))


def _promote(args) -> int:
    from .registry import promote

    return promote(echo=print)


def _rollback(args) -> int:
    from .registry import rollback

    return rollback(echo=print)


HANDLERS = {"train": _train, "promote": _promote, "rollback": _rollback, "serve": _serve, "predict": _predict,
            "request-example": _example, "check-data": _check_data, "drift": _drift, "check-ownership": _ownership,
            "report": _report}


#: What each command imports from the project's dependencies; checked before it starts (a missing one
#: would otherwise stop `train` after the notebook ran for minutes).
NEEDS = {"train": ("pandas", "sklearn", "mlflow"), "promote": ("mlflow",), "rollback": ("mlflow",),
         "serve": ("pandas", "mlflow", "fastapi", "uvicorn"), "predict": ("pandas", "mlflow"),
         "request-example": ("pandas", "mlflow"), "check-data": ("pandas", "yaml"), "drift": ("pandas", "yaml"),
         "check-ownership": ("yaml",), "report": ("yaml",)}  # report reads the registry when mlflow is there
DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "pyyaml", "mlflow": "mlflow-skinny"}
#: What an option adds to its command's needs, and the extra of pyproject.toml that installs it.
OPTION_NEEDS = {("predict", "engine", "spark"): (("pyspark",), "spark")}


def missing_dependencies(command: str, args=None) -> list[str]:
    import importlib.util

    needs = list(NEEDS.get(command, ()))
    for (cmd, option, value), (modules, _) in OPTION_NEEDS.items():
        if cmd == command and getattr(args, option, None) == value:
            needs += modules
    return [m for m in needs if importlib.util.find_spec(m) is None]


def _extra(command: str, args, missing: list[str]) -> tuple[str, str]:
    """(what needs them, the pip extras) for the missing-dependency message."""
    what, extras, by_option = command, [], set()
    for (cmd, option, value), (modules, extra) in OPTION_NEEDS.items():
        if cmd == command and getattr(args, option, None) == value and set(missing) & set(modules):
            what, by_option = f"{command} --{option} {value}", by_option | set(modules)
            extras.append(extra)
    return what, ",".join((["dev"] if set(missing) - by_option else []) + extras)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger(S.PACKAGE)  # the project's modules log under it; nothing else is configured
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    missing = missing_dependencies(args.command, args)
    if missing:
        names = ", ".join(DISTRIBUTIONS.get(m, m) for m in missing)
        what, extra = _extra(args.command, args, missing)
        print(f"error: {what} needs {names}, not installed in {sys.executable}", file=sys.stderr)
        print(f"hint: install the project with its dependencies: pip install -e '.[{extra}]' (if pyproject.toml is "
              "your own, merge the generated dependencies into it first: see ADOPTION.md)", file=sys.stderr)
        return 2
    S.quiet_mlflow()
    try:
        return HANDLERS[args.command](args)
    except ProjectError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug here or in a library: one line, the traceback on request
        if S.env("DEBUG"):
            raise
        first = next((line for line in str(exc).splitlines() if line.strip()), "")[:300]
        print(f"error: unexpected {type(exc).__name__} in {args.command}: {first}", file=sys.stderr)
        print(f"hint: rerun with {S.ENV_PREFIX}_DEBUG=1 for the traceback", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
