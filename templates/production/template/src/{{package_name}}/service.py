"""The prediction service: FastAPI app, contract checks per row, Prometheus metrics, prediction log.

Hot path: the body is parsed once with `json`, rows are checked with the contract's cheap
`validate_record`, and the answer is serialised directly (no pydantic model per record).

Each record is checked against the model's request schema (schema.py: the frame the model was
fitted on, dtype by dtype, plus the data contract's row rules for the data file's own columns) and
cast to the training dtypes, so a row gets the same prediction alone or in any batch. Valid requests
are scored through the micro-batcher (batching.py); metrics and the prediction log: metrics.py.

Hardening: a body over `<PREFIX>_MAX_BODY_MB` (10) gets 413 (Content-Length is checked first, and the
streamed read is capped too); a body that is not JSON, or nested too deep, gets 422. The model comes only
from the registry URI in the settings (an alias or a pinned version, checked at start): nothing in a request
chooses it. `serve` (serving.py: one process or `--workers N`) refuses to start when the registry does not
answer (exit 69, bounded by `<PREFIX>_REGISTRY_TIMEOUT_SECONDS`); once the model is loaded, a registry that
goes away does not stop the service: /ready stays 200 and says `"registry": "unreachable"` (checked in the
background at most every `<PREFIX>_REGISTRY_CHECK_SECONDS`, never per request).
"""

import json
import logging
import threading
import time
from itertools import chain
from typing import Any

from . import settings as S
from .batching import Batcher, max_batch_rows, max_batch_wait
from .metrics import Metrics, PredictionLog, exposition, now, worker_started, worker_stopped

logger = logging.getLogger(__name__)
THREADPOOL_ROWS = 256  # bigger requests are validated off the event loop


def load_contract(settings: S.Settings):
    """The data contract, or None (then the request schema's type checks still run)."""
    if not settings.contract_path.is_file():
        logger.warning("no contract at %s; requests get type checks only", settings.contract_path)
        return None
    try:
        from .contract import Contract

        return Contract.load(settings.contract_path)
    except Exception as exc:  # a broken contract must not take the service down silently
        logger.warning("cannot load contract %s: %s", settings.contract_path, exc)
        return None


async def read_body(request, limit: int) -> bytes | None:
    """The request body, or None when it says (Content-Length) or turns out to be over `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # a malformed Content-Length is the server's to refuse
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class RegistryWatch:
    """/ready's view of the registry: refreshed in a background thread when older than `every` seconds.

    A request never waits for the registry: /ready answers from the last check ("ok", "unreachable" or
    "unchecked") and starts the next one when it is due.
    """

    def __init__(self, settings: S.Settings) -> None:
        self.settings = settings
        self.every = settings.registry_check_seconds
        self.status = "unchecked"
        self.reason: str | None = None
        self.checked_at: float | None = None
        self._running = threading.Lock()

    def set(self, problem: str | None) -> None:
        self.status, self.reason = ("ok", None) if problem is None else ("unreachable", problem)
        self.checked_at = time.monotonic()

    def due(self) -> bool:
        return self.every > 0 and (self.checked_at is None or time.monotonic() - self.checked_at >= self.every)

    def refresh_soon(self) -> None:
        if not self.due() or not self._running.acquire(blocking=False):
            return

        def check() -> None:
            try:
                from . import registry

                problem = registry.probe(self.settings)
                if problem is not None and self.status != "unreachable":
                    logger.warning("registry unreachable (%s); still serving the loaded model", problem)
                self.set(problem)
            finally:
                self._running.release()

        threading.Thread(target=check, name="registry-check", daemon=True).start()

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"registry": self.status}
        if self.reason:
            out["registry_error"] = self.reason
        if self.checked_at is not None:
            out["registry_checked_seconds_ago"] = round(time.monotonic() - self.checked_at, 1)
        return out


class Predictor:
    """Everything a request needs, prepared once at startup."""

    def __init__(self, bundle, contract, metrics: Metrics, log: PredictionLog) -> None:
        self.bundle = bundle
        self.contract = contract
        self.metrics = metrics
        self.log = log
        self.schema = bundle.schema
        self.version = str(bundle.version)
        self.columns = list(bundle.columns)
        self.binary = bool(bundle.has_proba and bundle.classes is not None and len(bundle.classes) == 2)
        self.schema.validate([], contract)  # compile the checks once, now

    def validate(self, records: list) -> list[dict[str, Any]]:
        """Per-row errors: the schema's types for every column, the contract's rules for the raw ones."""
        return self.schema.validate(records, self.contract)

    def describe(self) -> dict[str, Any]:
        """GET /schema: the columns a request carries, with dtypes and rules, and example records."""
        columns = []
        for col in self.schema.columns:
            rule = None if col.derived or self.contract is None else self.contract.columns.get(col.name)
            entry = {"name": col.name, "dtype": col.dtype, "kind": col.kind, "required": not col.nullable,
                     "derived": col.derived}
            if col.categories is not None:
                entry["categories"] = col.categories
            if rule is not None:
                entry["contract"] = {k: v for k, v in (("logicalType", rule.logical_type), ("minimum", rule.minimum),
                                                       ("maximum", rule.maximum),
                                                       ("allowed", list(rule.allowed_sorted) or None))
                                     if v is not None}
            columns.append(entry)
        return {"model_name": self.bundle.name, "model_version": self.version, "columns": columns,
                "example": {"records": self.bundle.example[:3]}}

    def score(self, records: list) -> dict[str, Any]:
        """One request's answer: {"predictions", ["probabilities",] "model_version"}."""
        return self.score_many([records])[0]

    def score_many(self, batches: list[list]) -> list[dict[str, Any]]:
        """Score several validated requests with one model call; one answer per request, in order.

        Runs in the model thread. The frame has the training dtypes whatever the batch, so a row's
        prediction does not depend on the rows it is batched with.
        """
        records = batches[0] if len(batches) == 1 else list(chain.from_iterable(batches))
        return self._split(self.schema.frame(records), [len(b) for b in batches])

    def _split(self, frame, sizes: list[int]) -> list[dict[str, Any]]:
        import numpy as np

        preds, proba = self.bundle.predict(frame)
        probabilities = None
        if proba is not None:
            finite = np.isfinite(proba).all(axis=1)
            if self.binary:
                probabilities = [
                    float(p) if ok else None for p, ok in zip(proba[:, 1].tolist(), finite.tolist(), strict=True)
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
        if len(values) != sum(sizes):
            raise RuntimeError(f"the model returned {len(values)} predictions for {sum(sizes)} rows")
        out: list[dict[str, Any]] = []
        at = 0
        for n in sizes:
            answer: dict[str, Any] = {"predictions": values[at : at + n]}
            if probabilities is not None:
                answer["probabilities"] = probabilities[at : at + n]
            answer["model_version"] = self.version
            out.append(answer)
            at += n
        return out


def create_app(bundle=None, settings: S.Settings | None = None, *, load: bool = True):
    """The FastAPI app. Without `bundle`, the champion is loaded at startup (ready stays 503 on failure)."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import Response

    settings = settings or S.Settings.load()
    metrics = Metrics()
    log = PredictionLog(settings.prediction_log, settings.prediction_log_max_bytes, settings.prediction_log_backups,
                        dropped=metrics.log_dropped)
    batcher = Batcher(max_batch_rows(), max_batch_wait())
    watch = RegistryWatch(settings)
    state: dict[str, Any] = {"predictor": None, "error": None, "batcher": batcher}

    def install(b) -> None:
        state["predictor"] = Predictor(b, load_contract(settings), metrics, log)
        metrics.info.labels(version=str(b.version), name=b.name).set(1)

    @asynccontextmanager
    async def lifespan(app):
        worker_started()
        if state["predictor"] is None and load:
            try:
                from . import registry

                install(registry.load_bundle(settings))
                watch.set(None)  # it just answered
            except Exception as exc:
                state["error"] = str(exc)
                logger.warning("no model loaded (%s); /ready answers 503", exc)
                from . import registry

                watch.set(await run_in_threadpool(registry.probe, settings))  # empty, or not there at all?
        batcher.start()
        try:
            yield
        finally:  # uvicorn gets here once the requests in flight are answered (or cut at the graceful timeout)
            await batcher.stop()
            log.close()
            worker_stopped()

    app = FastAPI(title=f"{S.PROJECT_NAME} prediction service", lifespan=lifespan)
    app.state.batcher = batcher
    app.state.registry_watch = watch
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
        watch.refresh_soon()
        if p is None:
            return as_json({"status": "not ready", "ready": False, "reason": state["error"] or "no model loaded",
                            **watch.describe()}, 503)
        return as_json({"status": "ready", "ready": True, "model_version": p.version, "model_name": p.bundle.name,
                        **watch.describe()})

    @app.get("/schema")
    async def schema():
        p = state["predictor"]
        if p is None:
            return as_json({"detail": "no model loaded"}, 503)
        return as_json(p.describe())

    @app.get("/metrics")
    async def prometheus():
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(exposition(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    schema_error = {
        "detail": [
            {
                "row": None,
                "column": None,
                "rule": "schema",
                "message": 'body must be {"records": [{column: value, ...}, ...]}',
            }
        ]
    }

    limit = settings.max_body_bytes
    too_large = {"detail": [{"row": None, "column": None, "rule": "size",
                             "message": f"body over {limit} bytes ({S.ENV_PREFIX}_MAX_BODY_MB)"}]}

    def refused(p: Predictor, status: str, start: float, rows: int, **extra: Any) -> None:
        """Count an invalid or failed request and log it (its rules or error, not its rows)."""
        elapsed = time.perf_counter() - start
        p.metrics.request(p.version, status).inc()
        p.metrics.duration.observe(elapsed)
        if p.log.enabled:
            entry = {"ts": now(), "status": status, "model_version": p.version, "rows": rows,
                     "duration_ms": round(elapsed * 1000, 3), **extra}
            batcher.write_log(p.log, [entry])

    @app.post("/predict")
    async def predict(request: Request):
        start = time.perf_counter()
        p = state["predictor"]
        if p is None:
            return as_json({"detail": "no model loaded"}, 503)
        raw = await read_body(request, limit)
        if raw is None:
            refused(p, "invalid", start, 0, violations=[{"column": None, "rule": "size", "count": 1}])
            return as_json(too_large, 413)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep for the parser
            body = None
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            refused(p, "invalid", start, 0, violations=[{"column": None, "rule": "schema", "count": 1}])
            return as_json(schema_error, 422)
        try:
            if len(records) >= THREADPOOL_ROWS:
                errors = await run_in_threadpool(p.validate, records)
            else:
                errors = p.validate(records)
            result = None if errors else await batcher.submit(p, records, start)
        except Exception as exc:
            logger.error("prediction failed: %r", exc)
            refused(p, "error", start, len(records), error=type(exc).__name__)
            return as_json({"detail": f"prediction failed: {type(exc).__name__}"}, 500)
        if errors:
            broken: dict[tuple[str, str], set] = {}
            for e in errors:
                p.metrics.validation.labels(column=str(e["column"]), rule=str(e["rule"])).inc()
                broken.setdefault((str(e["column"]), str(e["rule"])), set()).add(e.get("row"))
            violations = [{"column": c, "rule": r, "count": len(rows)} for (c, r), rows in broken.items()]
            refused(p, "invalid", start, len(records), violations=violations)
            return as_json({"detail": errors[:1000]}, 422)
        p.metrics.rows.inc(len(records))
        p.metrics.request(p.version, "success").inc()
        p.metrics.duration.observe(time.perf_counter() - start)
        return as_json(result)

    return app


def app_from_env():
    """The app of one worker process of `serve --workers N` (uvicorn's factory): settings from the environment."""
    return create_app()
