"""Command line: `python -m <package> <command>`. Heavy imports happen inside the commands."""

from __future__ import annotations

import argparse
import sys

from . import settings as S

COMMANDS = {
    "train": "train the notebook model and a baseline, log both to MLflow, register the best as challenger",
    "promote": "make the challenger the champion if it beats the baseline and the champion and meets the floor",
    "rollback": "point the champion alias back to the previous champion",
    "serve": "run the HTTP prediction service (FastAPI + uvicorn) with the champion",
    "predict": "score a CSV or Parquet file in batch with the champion",
    "check-data": "check a data file against the data contract",
    "drift": "PSI drift of a data file (and its predictions) against the champion's training profile",
    "check-ownership": "check OWNERSHIP.yaml has real owners (required once lifecycle is production)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {S.PACKAGE}",
        description=f"{S.PROJECT_NAME}: train, promote, serve and monitor the model.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    p = sub.add_parser("train", help=COMMANDS["train"], description=COMMANDS["train"])
    p.add_argument("--baseline", action="store_true", help="train and register the baseline alone")
    p.add_argument("--sample", type=int, default=None, help="train on a random sample of N rows")
    sub.add_parser("promote", help=COMMANDS["promote"], description=COMMANDS["promote"])
    sub.add_parser("rollback", help=COMMANDS["rollback"], description=COMMANDS["rollback"])
    p = sub.add_parser("serve", help=COMMANDS["serve"], description=COMMANDS["serve"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p = sub.add_parser("predict", help=COMMANDS["predict"], description=COMMANDS["predict"])
    p.add_argument("file")
    p.add_argument("--output", "-o", default=None, help="output CSV/Parquet (default: <file>.predictions.csv)")
    p = sub.add_parser("check-data", help=COMMANDS["check-data"], description=COMMANDS["check-data"])
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--contract", default=None, help="contract path (default: contracts/<dataset>.odcs.yaml)")
    p = sub.add_parser("drift", help=COMMANDS["drift"], description=COMMANDS["drift"])
    p.add_argument("file")
    p.add_argument("--report-dir", default=None, help="where drift_report.md/.html go (default: reports/)")
    p = sub.add_parser("check-ownership", help=COMMANDS["check-ownership"], description=COMMANDS["check-ownership"])
    p.add_argument("--file", default=None, help="OWNERSHIP.yaml path")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cmd = args.command
    if cmd is None:
        parser.print_help()
        return 0
    if cmd == "train":
        from .pipeline import TrainError, train

        try:
            train(baseline_only=args.baseline, sample=args.sample)
        except TrainError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            if exc.hint:
                print(f"hint: {exc.hint}", file=sys.stderr)
            return exc.exit_code
        return 0
    if cmd == "promote":
        from .registry import promote

        return promote()
    if cmd == "rollback":
        from .registry import rollback

        return rollback()
    if cmd == "serve":
        from .service import serve

        return serve(args.host, args.port)
    if cmd == "predict":
        from .batch import main as batch_main

        return batch_main(args.file, args.output)
    if cmd == "check-data":
        from .contract import check_data_main

        return check_data_main(args.file, as_json=args.json, contract_path=args.contract)
    if cmd == "drift":
        from .drift import main as drift_main

        return drift_main(args.file, args.report_dir)
    if cmd == "check-ownership":
        from .ownership import check_main

        return check_main(args.file)
    parser.error(f"unknown command {cmd}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
