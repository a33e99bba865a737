"""Adaptive micro-batching: requests that queue up while the model is busy share the next model call.

A model call costs about the same for 1 row as for 100, so valid requests are queued for one batching
task. It takes everything that queued up while the previous model call ran (up to
`<PKG>_MAX_BATCH_ROWS` rows, default 256), builds one DataFrame with the training dtypes, calls the
model once in a dedicated thread and hands each request its own slice of the answer. A lone request
is scored at once. Only under load (the previous model call served two or more requests) does the
batcher wait up to `<PKG>_MAX_BATCH_WAIT_MS` (default 1.5 ms) for more requests to join; 0 never waits.

At shutdown (SIGTERM: uvicorn first waits for the requests in flight, `<PKG>_GRACEFUL_SECONDS`) `stop()`
still scores and answers whatever is queued or in the model thread, for a bounded time, before it stops.
"""

import asyncio
import collections
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import metrics
from . import settings as S

log = logging.getLogger(__name__)
MAX_BATCH_ROWS = 256  # default rows per model call (`<PKG>_MAX_BATCH_ROWS`)
MAX_BATCH_WAIT_MS = 1.5  # collection window under load only (`<PKG>_MAX_BATCH_WAIT_MS`); 0 = never wait
DRAIN_SECONDS = 10.0  # at shutdown, how long queued requests may still be scored


class _Job:
    __slots__ = ("predictor", "records", "future", "start")

    def __init__(self, predictor: Any, records: list, future: asyncio.Future, start: float) -> None:
        self.predictor = predictor
        self.records = records
        self.future = future
        self.start = start  # time.perf_counter() when the request arrived


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
        self.busy = False  # a model call is running
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

    async def stop(self, drain: float = DRAIN_SECONDS) -> None:
        """Answer what is queued or being scored (for `drain` seconds at most), then stop the task, fail what is
        still queued and finish the pending log writes."""
        if self.task is not None and not self.task.done() and self.loop is asyncio.get_running_loop():
            deadline = self.loop.time() + drain
            while (self.busy or any(not j.future.done() for j in self.queue)) and self.loop.time() < deadline:
                await asyncio.sleep(0.005)
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

    async def submit(self, predictor: Any, records: list, start: float | None = None) -> dict[str, Any]:
        """The answer for one validated request (see Predictor.score); raises what the model raised.

        `start` (time.perf_counter() at the request's arrival) gives the logged duration."""
        self.start()
        future = self.loop.create_future()
        self.queue.append(_Job(predictor, records, future, time.perf_counter() if start is None else start))
        self.wakeup.set()
        return await future

    def write_log(self, prediction_log: Any, entries: list[dict[str, Any]]) -> None:
        """Write prediction-log entries in the log thread (at once when the batcher is not running)."""
        pool = self.log_pool
        if pool is not None:
            try:
                pool.submit(prediction_log.write_many, entries)
                return
            except RuntimeError:  # shutting down
                pass
        prediction_log.write_many(entries)

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
            self.busy = True
            try:
                answers = await loop.run_in_executor(self.model_pool, predictor.score_many, [j.records for j in jobs])
            except asyncio.CancelledError:
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(RuntimeError("the service is shutting down"))
                raise
            except Exception as exc:
                rows = sum(len(j.records) for j in jobs)
                log.error("prediction failed for a batch of %d request(s), %d row(s): %r", len(jobs), rows, exc)
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
            else:
                self._answer(predictor, jobs, answers)
            finally:
                self.busy = False
            # Let the answered requests' handlers send their responses (one pass of the loop, no
            # timer) before the next model call competes with them for the interpreter lock.
            await asyncio.sleep(0)

    def _answer(self, predictor: Any, jobs: list[_Job], answers: list[dict[str, Any]]) -> None:
        entries = []
        ts = metrics.now()
        done = time.perf_counter()
        for job, answer in zip(jobs, answers, strict=True):
            if job.future.done():  # the client went away: not answered, not logged
                continue
            job.future.set_result(answer)
            if "errors" not in answer:
                entries.append(
                    {
                        "ts": ts,
                        "status": "success",
                        "model_version": predictor.version,
                        "rows": len(job.records),
                        "duration_ms": round((done - job.start) * 1000, 3),
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
        log.warning("%s_%s=%r is not valid; using %s", S.ENV_PREFIX, name, raw, default)
        return default


def max_batch_rows() -> int:
    """Rows per model call at most: `<PKG>_MAX_BATCH_ROWS` (default 256); one request is never split."""
    return _env_number("MAX_BATCH_ROWS", MAX_BATCH_ROWS, int, 1)


def max_batch_wait() -> float:
    """Seconds a batch may wait under load for more requests: `<PKG>_MAX_BATCH_WAIT_MS` (default 1.5)."""
    return _env_number("MAX_BATCH_WAIT_MS", MAX_BATCH_WAIT_MS, float, 0) / 1000
