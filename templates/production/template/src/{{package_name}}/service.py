"""The prediction service: FastAPI app, contract checks per row, Prometheus metrics, prediction log.

Hot path: the body is parsed once with `json`, rows are checked with the contract's cheap
`validate_record`, and the answer is serialised directly (no pydantic model per record).

Adaptive micro-batching: a model call costs about the same for 1 row as for 100, so valid requests
are queued for one batching task. It takes everything that queued up while the previous model call
ran (up to `<PKG>_MAX_BATCH_ROWS` rows, default 256), builds one DataFrame, calls the model once in
a dedicated thread and hands each request its own slice of the answer. A lone request is scored at
once, so a single client's latency does not grow. Only under load (the previous model call served
two or more requests) does the batcher wait up to `<PKG>_MAX_BATCH_WAIT_MS` (default 1.5 ms) for
more requests to join: that roughly doubles throughput with several clients and lowers their p99.
Set it to 0 to never wait.
Prediction-log lines are written by their own thread, off the event loop.
"""

import asyncio
import collections
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any

from . import settings as S

THREADPOOL_ROWS = 256  # bigger requests are validated off the event loop
MAX_BATCH_ROWS = 256  # default rows per model call (`<PKG>_MAX_BATCH_ROWS`)
MAX_BATCH_WAIT_MS = 1.5  # collection window under load only (`<PKG>_MAX_BATCH_WAIT_MS`); 0 = never wait


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
        self._fh = open(self.path, "a", encoding="utf-8")  # flushed after every write_many
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

    @property
    def enabled(self) -> bool:
        return self.path is not None and self.max_bytes > 0

    def write(self, entry: dict[str, Any]) -> None:
        self.write_many([entry])

    def write_many(self, entries: list[dict[str, Any]]) -> None:
        if not self.enabled:
            return
        with self._lock:
            try:
                for entry in entries:
                    line = json.dumps(entry, default=str) + "\n"
                    if self._fh is None:
                        self._open()
                    if self._size + len(line) > self.max_bytes and self._size > 0:
                        self._rotate()
                    self._fh.write(line)
                    self._size += len(line)
                if self._fh is not None:
                    self._fh.flush()
            except Exception as exc:  # logging must never break predictions
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
        """One request's answer: {"predictions", ["probabilities",] "model_version"} or {"errors"}."""
        return self.score_many([records])[0]

    def score_many(self, batches: list[list]) -> list[dict[str, Any]]:
        """Score several requests' records with one model call; one answer per request, in order.

        Runs in the model thread. A request whose values do not fit the model's input types gets
        {"errors": [...]} with row numbers of its own; the others are still scored.
        """
        if len(batches) == 1:
            frame, errors = self.frame(batches[0])
            if errors:
                return [{"errors": errors}]
            return self._split(frame, [len(batches[0])])
        frame, errors = self.frame(list(chain.from_iterable(batches)))
        if not errors:
            return self._split(frame, [len(b) for b in batches])
        # Some request has a value of the wrong type (only possible without a contract): find it,
        # and score the others one by one (rare path, exact per-request semantics).
        return [self.score_many([b])[0] for b in batches]

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


class _Job:
    __slots__ = ("predictor", "records", "future")

    def __init__(self, predictor: Predictor, records: list, future: asyncio.Future) -> None:
        self.predictor = predictor
        self.records = records
        self.future = future


class Batcher:
    """One model call at a time; requests that queue up meanwhile share the next call.

    The batching task runs on the event loop; the model runs in a dedicated thread and the
    prediction log in another, so neither blocks the loop. `max_wait` (seconds, default 0) is an
    optional collection window used only under load: after a model call that served several
    requests, wait at most that long for as many to queue up again. A lone client never waits.
    """

    def __init__(self, max_rows: int, max_wait: float = 0.0) -> None:
        self.max_rows = max(int(max_rows), 1)
        self.max_wait = max(float(max_wait), 0.0)
        self.queue: collections.deque[_Job] = collections.deque()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task | None = None
        self.wakeup: asyncio.Event | None = None
        self.model_pool: ThreadPoolExecutor | None = None
        self.log_pool: ThreadPoolExecutor | None = None
        self.calls = 0  # model calls
        self.largest = 0  # most requests served by one model call

    def start(self) -> None:
        """Start the batching task on the running loop (again if the loop changed)."""
        loop = asyncio.get_running_loop()
        if self.task is not None and self.loop is loop and not self.task.done():
            return
        if self.loop is not loop:
            self.queue.clear()  # futures of another (closed) loop: nobody waits for them any more
        if self.model_pool is None:
            self.model_pool = ThreadPoolExecutor(1, thread_name_prefix=f"{S.PACKAGE}-model")
        if self.log_pool is None:
            self.log_pool = ThreadPoolExecutor(1, thread_name_prefix=f"{S.PACKAGE}-log")
        self.loop = loop
        self.wakeup = asyncio.Event()
        self.task = loop.create_task(self._run(), name=f"{S.PACKAGE}-batcher")

    async def stop(self) -> None:
        """Stop the task, fail what is still queued, finish pending log writes."""
        task, self.task = self.task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        while self.queue:
            job = self.queue.popleft()
            if not job.future.done():
                job.future.set_exception(RuntimeError("the service is shutting down"))
        for name in ("model_pool", "log_pool"):
            pool = getattr(self, name)
            setattr(self, name, None)
            if pool is not None:
                pool.shutdown(wait=True)

    async def submit(self, predictor: Predictor, records: list) -> dict[str, Any]:
        """The answer for one validated request (see Predictor.score); raises what the model raised."""
        self.start()
        future = self.loop.create_future()
        self.queue.append(_Job(predictor, records, future))
        self.wakeup.set()
        return await future

    def _take(self) -> list[_Job]:
        """The queued jobs of one model call: the first, then more up to max_rows rows, one predictor."""
        jobs: list[_Job] = []
        rows = 0
        queue = self.queue
        while queue:
            job = queue[0]
            if job.future.done():  # the client went away
                queue.popleft()
                continue
            n = len(job.records)
            if jobs and (rows + n > self.max_rows or job.predictor is not jobs[0].predictor):
                break
            queue.popleft()
            jobs.append(job)
            rows += n
        return jobs

    async def _collect(self, want: int) -> None:
        """Under load only (`want` > 1 requests last time): wait up to max_wait for `want` to queue."""
        if self.max_wait <= 0 or want < 2:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while len(self.queue) < want and sum(len(j.records) for j in self.queue) < self.max_rows:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self.wakeup.clear()
            timer = loop.call_later(remaining, self.wakeup.set)
            try:
                await self.wakeup.wait()  # a new request, or the deadline
            finally:
                timer.cancel()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wakeup = self.wakeup
        concurrent = 0  # requests in or queued behind the last model call
        while True:
            if not self.queue:
                wakeup.clear()
                await wakeup.wait()
                continue
            await self._collect(concurrent)
            jobs = self._take()
            if not jobs:
                continue
            concurrent = len(jobs) + len(self.queue)
            predictor = jobs[0].predictor
            self.calls += 1
            self.largest = max(self.largest, len(jobs))
            try:
                answers = await loop.run_in_executor(self.model_pool, predictor.score_many, [j.records for j in jobs])
            except asyncio.CancelledError:
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(RuntimeError("the service is shutting down"))
                raise
            except Exception as exc:
                rows = sum(len(j.records) for j in jobs)
                print(
                    f"error: prediction failed for a batch of {len(jobs)} request(s), {rows} row(s): {exc!r}",
                    file=sys.stderr,
                )
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
            else:
                self._answer(predictor, jobs, answers)
            # Let the answered requests' handlers send their responses (one pass of the loop, no
            # timer) before the next model call competes with them for the interpreter lock.
            await asyncio.sleep(0)

    def _answer(self, predictor: Predictor, jobs: list[_Job], answers: list[dict[str, Any]]) -> None:
        entries = []
        ts = time.time()
        for job, answer in zip(jobs, answers, strict=True):
            if job.future.done():  # the client went away: not answered, not logged
                continue
            job.future.set_result(answer)
            if "errors" not in answer:
                entries.append(
                    {
                        "ts": ts,
                        "model_version": predictor.version,
                        "records": job.records,
                        "predictions": answer["predictions"],
                    }
                )
        if entries and predictor.log.enabled:
            self.log_pool.submit(predictor.log.write_many, entries)


def _env_number(name: str, default: float, cast, minimum: float) -> Any:
    raw = S.env(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = cast(raw)
        if value < minimum:
            raise ValueError(raw)
        return value
    except ValueError:
        print(f"warning: {S.ENV_PREFIX}_{name}={raw!r} is not valid; using {default}", file=sys.stderr)
        return default


def max_batch_rows() -> int:
    """Rows per model call at most: `<PKG>_MAX_BATCH_ROWS` (default 256); one request is never split."""
    return _env_number("MAX_BATCH_ROWS", MAX_BATCH_ROWS, int, 1)


def max_batch_wait() -> float:
    """Seconds a batch may wait under load for more requests: `<PKG>_MAX_BATCH_WAIT_MS` (default 1.5)."""
    return _env_number("MAX_BATCH_WAIT_MS", MAX_BATCH_WAIT_MS, float, 0) / 1000


def create_app(bundle=None, settings: S.Settings | None = None, *, load: bool = True):
    """The FastAPI app. Without `bundle`, the champion is loaded at startup (ready stays 503 on failure)."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import Response

    settings = settings or S.Settings.load()
    metrics = Metrics()
    log = PredictionLog(settings.prediction_log, settings.prediction_log_max_bytes, settings.prediction_log_backups)
    batcher = Batcher(max_batch_rows(), max_batch_wait())
    state: dict[str, Any] = {"predictor": None, "error": None, "batcher": batcher}

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
        batcher.start()
        try:
            yield
        finally:
            await batcher.stop()
            log.close()

    app = FastAPI(title=f"{S.PROJECT_NAME} prediction service", lifespan=lifespan)
    app.state.batcher = batcher
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
            p.metrics.duration.observe(time.perf_counter() - start)
            return as_json(schema_error, 422)
        try:
            if len(records) >= THREADPOOL_ROWS:
                errors = await run_in_threadpool(p.validate, records)
            else:
                errors = p.validate(records)
            result = None if errors else await batcher.submit(p, records)
        except Exception as exc:
            p.metrics.request(p.version, "error").inc()
            p.metrics.duration.observe(time.perf_counter() - start)
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
        p.metrics.duration.observe(time.perf_counter() - start)
        return as_json(result)

    return app


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


def serve(host: str = "127.0.0.1", port: int = 8000) -> int:
    import uvicorn

    app = create_app()
    level = os.environ.get(f"{S.ENV_PREFIX}_LOG_LEVEL", "warning")
    print(f"serving {S.PACKAGE} on http://{host}:{port} (POST /predict, GET /health /ready /metrics)", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=1,  # the model is loaded per process; batching needs every request in this one
        loop="uvloop" if _installed("uvloop") else "asyncio",
        http="httptools" if _installed("httptools") else "h11",
        lifespan="on",
        log_level=level,
        access_log=False,
    )
    return 0
