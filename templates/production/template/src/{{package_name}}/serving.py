"""Running the service (`serve`): uvicorn in this process, or `--workers N` processes sharing one socket.

`serve` checks the settings and the registry once, in the process that was started (exit 2 or 69 as the
checks say, before anything listens), then:

- one worker (the default, `<PKG>_WORKERS`): the app runs in this process, as it always has;
- N workers: uvicorn's supervisor binds the socket and starts N processes (spawned afresh: each imports the
  project and loads the model itself, through `service:app_from_env`), all accepting on that socket. The
  metrics are prometheus-client's multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` is a private temporary
  directory, removed at exit, unless it is set already (then its `*.db` files are wiped at start, as
  prometheus-client requires). The workers share the prediction log (metrics.py locks it).

SIGTERM (what Kubernetes sends; Ctrl-C alike, exit 130 with one worker): the listening socket is closed at
once (a new connection is refused), the requests in flight are answered and logged, then the process exits
0. Requests still running after `<PKG>_GRACEFUL_SECONDS` (default 20) are cancelled. With N workers the
supervisor forwards the signal to every worker and exits once they all have. In Kubernetes one worker per
pod is the scaling unit (the HPA adds pods); `--workers N` is for a VM or one big container.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from . import settings as S
from .errors import ProjectError

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ENDPOINTS = "POST /predict, GET /schema /health /ready /metrics"


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, echo=lambda text: None) -> int:
    """Check the settings and the registry, then serve until SIGTERM (or Ctrl-C); 0 after a graceful stop."""
    import uvicorn

    from . import registry

    settings = S.Settings.load()
    given = "--workers" if workers is not None else f"{S.ENV_PREFIX}_WORKERS"
    workers = settings.workers if workers is None else workers
    if workers < 1:
        raise ProjectError(f"{given} must be 1 or more, not {workers}",
                           f"one worker per pod in Kubernetes; N for a VM ({S.ENV_PREFIX}_WORKERS sets the default)",
                           exit_code=2)
    registry.preflight(settings)  # a model URI it may load and a registry that answers, or exit now
    options = {"host": host, "port": port, "loop": "uvloop" if _installed("uvloop") else "asyncio",
               "http": "httptools" if _installed("httptools") else "h11", "lifespan": "on",
               "log_level": os.environ.get(f"{S.ENV_PREFIX}_LOG_LEVEL", "warning"), "access_log": False,
               "timeout_graceful_shutdown": settings.graceful_seconds}
    with _metrics_dir(private=workers > 1):
        if workers == 1:
            from .service import create_app

            app = create_app(settings=settings)
            echo(f"serving {S.PACKAGE} on http://{host}:{port} ({ENDPOINTS})")
            signal.signal(signal.SIGTERM, _stopped)  # uvicorn re-raises it after its graceful shutdown
            uvicorn.run(app, workers=1, **options)  # the model is loaded in this process (lifespan)
        else:
            import importlib

            importlib.import_module(f"{S.PACKAGE}.service")  # a broken import fails here, not in N restart loops
            echo(f"serving {S.PACKAGE} on http://{host}:{port} with {workers} worker processes ({ENDPOINTS})")
            _supervise(uvicorn.Config(f"{S.PACKAGE}.service:app_from_env", factory=True, workers=workers,
                                      **options))
    return 0


def _stopped(signum, frame) -> None:
    raise SystemExit(0)  # SIGTERM is how a deployment stops the service: a normal exit, not a failure


def _supervise(config) -> None:
    """uvicorn's supervisor (as `uvicorn.run(workers=N)`) on a TCP_NODELAY-able socket it closes at the first signal."""
    import socket

    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
        # uvicorn binds it with proto 0, and asyncio sets TCP_NODELAY only on accepted IPPROTO_TCP sockets:
        # without it every keep-alive answer waits ~40 ms for the client's delayed ACK (uvicorn issue 3149)
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())

    signalled: list[str] = []

    class Supervisor(Multiprocess):
        # The workers close theirs when they get the signal: then a new connection is refused, not queued.
        def handle_term(self) -> None:
            signalled.append("TERM")
            sock.close()
            super().handle_term()

        def handle_int(self) -> None:
            signalled.append("INT")
            sock.close()
            super().handle_int()

    supervisor = Supervisor(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        sock.close()
    if not signalled:  # uvicorn stops the parent when a worker fails before it serves (and returns normally)
        raise ProjectError("a worker process failed to start, so the service stopped (its error is above)",
                           f"fix that error, or run with --workers 1 to see it alone ({S.ENV_PREFIX}_DEBUG=1 for "
                           "the traceback)", exit_code=70)


@contextlib.contextmanager
def _metrics_dir(*, private: bool) -> Iterator[Path | None]:
    """PROMETHEUS_MULTIPROC_DIR for the workers: the one set (stale files wiped) or a private temporary one."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        try:
            path.mkdir(parents=True, exist_ok=True)
            for db in path.glob("*.db"):  # an earlier run's counters would be added to this one's
                db.unlink()
        except OSError as exc:
            raise ProjectError(f"cannot use {MULTIPROC_ENV}={given}: {exc}",
                               "point it at a writable directory of its own, or unset it", exit_code=2) from None
        yield path
        return
    if not private:
        yield None
        return
    try:
        made = tempfile.mkdtemp(prefix=f"{S.PACKAGE}-metrics-")
    except OSError as exc:
        raise ProjectError(f"cannot create a directory for the workers' metrics: {exc}",
                           f"set {MULTIPROC_ENV} to a writable directory (or TMPDIR)", exit_code=2) from None
    os.environ[MULTIPROC_ENV] = made  # before any worker imports prometheus_client
    try:
        yield Path(made)
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)
