"""The prediction service: FastAPI app, contract checks per row, Prometheus metrics, prediction log.

Hot path: the body is parsed once with `json`, rows are checked with the contract's cheap
`validate_record`, one DataFrame is built per request from the signature's columns and dtypes, and
the answer is serialised directly (no pydantic model per record).
"""

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from . import settings as S

THREADPOOL_ROWS = 256  # bigger requests are scored off the event loop


class PredictionLog:
    """Append-only JSON lines, rotated at `max_bytes` keeping `backups` old files."""

    def __init__(self, path: Path | None, max_bytes: int, backups: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = max(backups, 0)
        self._lock = threading.Lock()
        self._fh = None
        self._size = 0

    def _open(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8", buffering=1)
        self._size = self._fh.tell()

    def _rotate(self) -> None:
        assert self.path is not None
        if self._fh:
            self._fh.close()
        for i in range(self.backups - 1, 0, -1):
            src = self.path.with_name(f"{self.path.name}.{i}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
        if self.backups:
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink(missing_ok=True)
        self._open()

    def write(self, entry: dict[str, Any]) -> None:
        if self.path is None or self.max_bytes <= 0:
            return
        line = json.dumps(entry, default=str) + "\n"
        with self._lock:
            try:
                if self._fh is None:
                    self._open()
                if self._size + len(line) > self.max_bytes and self._size > 0:
                    self._rotate()
                self._fh.write(line)
                self._size += len(line)
            except OSError as exc:  # logging must never break predictions
                print(f"warning: prediction log: {exc}", file=sys.stderr)

    def close(self) -> None:
        if self._fh:
            self._fh.close()
            self._fh = None


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        p = S.PACKAGE
        self.registry = CollectorRegistry()
        self.requests = Counter(
            f"{p}_prediction_requests",
            "Prediction requests by model version and status",
            ["model_version", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            f"{p}_prediction_request_duration_seconds",
            "Time to answer /predict",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.validation = Counter(
            f"{p}_input_validation_failures",
            "Rows rejected by the data contract",
            ["column", "rule"],
            registry=self.registry,
        )
        self.non_finite = Counter(
            f"{p}_non_finite_predictions", "Predictions that were NaN or infinite", registry=self.registry
        )
        self.rows = Counter(f"{p}_predicted_rows", "Rows scored", registry=self.registry)
        self.info = Gauge(f"{p}_model_info", "The model being served", ["version", "name"], registry=self.registry)
        self._children: dict[tuple[str, str], Any] = {}

    def request(self, version: str, status: str):
        key = (version, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.requests.labels(model_version=version, status=status)
        return child


def load_contract(settings: S.Settings):
    """The data contract, or None (then only presence and type checks run)."""
    if not settings.contract_path.is_file():
        print(f"warning: no contract at {settings.contract_path}; row checks limited to types", file=sys.stderr)
        return None
    try:
        from .contract import Contract

        return Contract.load(settings.contract_path)
    except Exception as exc:  # a broken contract must not take the service down silently
        print(f"warning: cannot load contract {settings.contract_path}: {exc}", file=sys.stderr)
        return None


class Predictor:
    """Everything a request needs, prepared once at startup."""

    def __init__(self, bundle, contract, metrics: Metrics, log: PredictionLog) -> None:
        self.bundle = bundle
        self.contract = contract
        self.metrics = metrics
        self.log = log
        self.version = str(bundle.version)
        self.columns = list(bundle.columns)
        self.column_set = frozenset(self.columns)
        self.binary = bool(bundle.has_proba and bundle.classes is not None and len(bundle.classes) == 2)

    def validate(self, records: list) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        contract = self.contract
        columns = self.columns
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                errors.append({"row": i, "column": None, "rule": "type", "message": "each record must be an object"})
                continue
            seen: set[str] = set()
            if contract is not None:
                for err in contract.validate_record(record, columns):
                    seen.add(err.column)
                    errors.append({"row": i, "column": err.column, "rule": err.rule, "message": err.message})
            if not self.column_set.issubset(record.keys()):
                for col in columns:
                    if col not in record and col not in seen:
                        errors.append({"row": i, "column": col, "rule": "required", "message": f"`{col}` is missing"})
        return errors

    def frame(self, records: list):
        """One DataFrame per request; raises ValueError with per-row type errors."""
        data = {c: [r.get(c) for r in records] for c in self.columns}
        try:
            return self.bundle.frame_from_columns(data), []
        except (ValueError, TypeError):
            pass
        errors = []
        for name, kind in zip(self.bundle.columns, self.bundle.types, strict=True):
            if kind not in ("double", "float", "long", "integer"):
                continue
            for i, v in enumerate(data[name]):
                if v is None:
                    continue
                try:
                    float(v)
                except (TypeError, ValueError):
                    errors.append(
                        {
                            "row": i,
                            "column": name,
                            "rule": "type",
                            "message": f"`{name}` must be a number, got {str(v)[:40]!r}",
                        }
                    )
        if not errors:
            errors.append(
                {"row": None, "column": None, "rule": "type", "message": "records do not match the model's inputs"}
            )
        return None, errors

    def score(self, records: list) -> dict[str, Any]:
        import numpy as np

        frame, errors = self.frame(records)
        if errors:
            return {"errors": errors}
        preds, proba = self.bundle.predict(frame)
        out: dict[str, Any] = {}
        if proba is not None:
            finite = np.isfinite(proba).all(axis=1)
            if self.binary:
                out["probabilities"] = [
                    float(p) if ok else None for p, ok in zip(proba[:, 1].tolist(), finite, strict=True)
                ]
        elif preds.dtype.kind in "fc":
            finite = np.isfinite(preds)
        else:
            finite = np.ones(len(preds), dtype=bool)
        bad = int(len(finite) - int(finite.sum()))
        values = preds.tolist()
        if bad:
            self.metrics.non_finite.inc(bad)
            values = [v if ok else None for v, ok in zip(values, finite.tolist(), strict=True)]
        elif preds.dtype.kind == "f":
            values = [float(v) for v in values]
        out = {"predictions": values, **out, "model_version": self.version}
        return out


def create_app(bundle=None, settings: S.Settings | None = None, *, load: bool = True):
    """The FastAPI app. Without `bundle`, the champion is loaded at startup (ready stays 503 on failure)."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import Response

    settings = settings or S.Settings.load()
    metrics = Metrics()
    log = PredictionLog(settings.prediction_log, settings.prediction_log_max_bytes, settings.prediction_log_backups)
    state: dict[str, Any] = {"predictor": None, "error": None}

    def install(b) -> None:
        state["predictor"] = Predictor(b, load_contract(settings), metrics, log)
        metrics.info.labels(version=str(b.version), name=b.name).set(1)

    @asynccontextmanager
    async def lifespan(app):
        if state["predictor"] is None and load:
            try:
                from . import registry

                install(registry.load_bundle(settings))
            except Exception as exc:
                state["error"] = str(exc)
                print(f"warning: no model loaded ({exc}); /ready answers 503", file=sys.stderr)
        yield
        log.close()

    app = FastAPI(title=f"{S.PROJECT_NAME} prediction service", lifespan=lifespan)
    if bundle is not None:
        install(bundle)

    def as_json(payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload, default=str), status_code=status, media_type="application/json")

    @app.get("/health")
    async def health():
        return as_json({"status": "ok"})

    @app.get("/ready")
    async def ready():
        p = state["predictor"]
        if p is None:
            return as_json({"status": "not ready", "reason": state["error"] or "no model loaded"}, 503)
        return as_json({"status": "ready", "model_version": p.version, "model_name": p.bundle.name})

    @app.get("/metrics")
    async def prometheus():
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/predict")
    async def predict(request: Request):
        start = time.perf_counter()
        p = state["predictor"]
        if p is None:
            return as_json({"detail": "no model loaded"}, 503)
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            p.metrics.request(p.version, "invalid").inc()
            return as_json(
                {
                    "detail": [
                        {
                            "row": None,
                            "column": None,
                            "rule": "schema",
                            "message": 'body must be {"records": [{column: value, ...}, ...]}',
                        }
                    ]
                },
                422,
            )
        try:
            if len(records) >= THREADPOOL_ROWS:
                errors = await run_in_threadpool(p.validate, records)
                result = None if errors else await run_in_threadpool(p.score, records)
            else:
                errors = p.validate(records)
                result = None if errors else p.score(records)
        except Exception as exc:
            p.metrics.request(p.version, "error").inc()
            print(f"error: prediction failed: {exc!r}", file=sys.stderr)
            return as_json({"detail": f"prediction failed: {type(exc).__name__}"}, 500)
        if result is not None and "errors" in result:
            errors = result["errors"]
        if errors:
            for e in errors:
                p.metrics.validation.labels(column=str(e["column"]), rule=str(e["rule"])).inc()
            p.metrics.request(p.version, "invalid").inc()
            p.metrics.duration.observe(time.perf_counter() - start)
            return as_json({"detail": errors[:1000]}, 422)
        p.metrics.rows.inc(len(records))
        p.metrics.request(p.version, "success").inc()
        p.log.write(
            {"ts": time.time(), "model_version": p.version, "records": records, "predictions": result["predictions"]}
        )
        p.metrics.duration.observe(time.perf_counter() - start)
        return as_json(result)

    return app


def serve(host: str = "127.0.0.1", port: int = 8000) -> int:
    import uvicorn

    app = create_app()
    level = os.environ.get(f"{S.ENV_PREFIX}_LOG_LEVEL", "warning")
    print(f"serving {S.PACKAGE} on http://{host}:{port} (POST /predict, GET /health /ready /metrics)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=level, access_log=False)
    return 0
