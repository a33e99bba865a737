"""The registry's write lock: one train/promote/rollback writes to the registry at a time (`writing`).

Promote and rollback read the aliases and the ``champion_events`` tag, then rewrite them: two at once would
lose an event or leave the alias and the events disagreeing. So every writer holds this lock first.

- Embedded sqlite store: an OS lock (``fcntl.flock``) on ``<db>.lock`` next to the database. The kernel drops
  it with the process however that ends, so a crash never leaves it held; it covers one machine, as the
  database file does.
- A tracking server (any other store): a registered model named ``<model>_shipyard_lock`` is the mutex.
  Creating a registered model is atomic on the server's database (the name is unique: one creator wins, the
  others get RESOURCE_ALREADY_EXISTS), so it works across machines with nothing but the MLflow API. Its tags
  say who holds it (``holder``: host, pid, command; ``token``) and until when (``expires``: epoch seconds,
  renewed every lease/3 seconds by a thread while held, ``<PKG>_REGISTRY_LOCK_LEASE_SECONDS``, default 60).
  Released by deleting it; a lock model exists only while a writer holds it (or a crashed one held it).
- A waiter retries with backoff for ``<PKG>_REGISTRY_LOCK_SECONDS`` (default 120), then fails with
  "registry busy" (exit 75). A lock whose expiry passed (its holder was killed or lost the server) is broken
  with a warning: deleted if it still carries the stale token, then taken as usual. Expiry compares the
  holder's clock with the waiter's: keep the machines' clocks in step (NTP) to well within the lease.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import sys
import threading
import time
import uuid

from . import settings as S
from .errors import EXIT_BUSY, EXIT_UNAVAILABLE, ProjectError

LOCK_SUFFIX = "_shipyard_lock"  # <model>_shipyard_lock: letters, digits and underscores, valid in any registry
LOCK_KIND = "shipyard-write-lock"  # the `kind` tag: what the registered model is, for anyone listing models
_log = logging.getLogger(S.PACKAGE)
_held: dict[str, tuple] = {}  # lock name -> (client, token, lost event) while this process holds it


def lock_name(settings: S.Settings) -> str:
    """The registered model that is the write lock of `settings.model_name` on a server."""
    return settings.model_name + LOCK_SUFFIX


def _busy(what: str, settings: S.Settings) -> ProjectError:
    return ProjectError(f"registry busy: another train/promote/rollback holds {what}; try again",
                        f"waited {settings.registry_lock_seconds:g}s (set {S.ENV_PREFIX}_REGISTRY_LOCK_SECONDS "
                        "to wait longer)", EXIT_BUSY)


@contextlib.contextmanager
def writing(settings: S.Settings):
    """Hold the registry's write lock for the duration: the OS lock (sqlite) or the lock model (a server)."""
    if settings.registry_lock_path is None:
        with _server_lock(settings):
            yield
        return
    import fcntl

    path = settings.registry_lock_path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(settings.registry_lock_seconds, 0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy(str(path), settings) from None
                time.sleep(0.05)
        yield  # the lock goes with the descriptor, however the process ends
    finally:
        os.close(fd)


def confirm(settings: S.Settings) -> None:
    """Right before a write: is the server lock still ours? Exit 75, writing nothing, when it was broken.

    A lease can be lost while held (a pause longer than the lease, a waiter that broke it as stale); the
    renewing thread notices within lease/3, and this re-reads the lock model itself just before the alias
    and the events are written. With sqlite the OS lock cannot be lost: nothing to check.
    """
    if settings.registry_lock_path is not None or lock_name(settings) not in _held:
        return
    c, token, lost = _held[lock_name(settings)]
    try:
        rm = _current(c, lock_name(settings))
    except Exception as exc:
        raise _unavailable(settings, exc) from None
    if lost.is_set() or rm is None or (rm.tags or {}).get("token") != token:
        lost.set()
        raise ProjectError(f"registry busy: the write lock {lock_name(settings)} was broken while this command held "
                           "it (paused longer than its lease?); nothing was written",
                           f"run it again (the lease is {S.ENV_PREFIX}_REGISTRY_LOCK_LEASE_SECONDS)", EXIT_BUSY)


# --------------------------------------------------------------------------- the lock model on a server
def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _unavailable(settings: S.Settings, exc: Exception) -> ProjectError:
    code = getattr(exc, "error_code", "")
    if code in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
        return ProjectError(f"cannot take the registry write lock {lock_name(settings)}: {_first_line(exc)}",
                            "the lock is a registered model: the user needs permission to create and delete "
                            "registered models", exit_code=2)
    return ProjectError(f"registry unreachable at {settings.tracking_uri}: {_first_line(exc)}",
                        "start the tracking server or fix MLFLOW_TRACKING_URI", exit_code=EXIT_UNAVAILABLE)


def _current(c, name: str):
    """The lock model, or None when nobody holds the lock."""
    from mlflow.exceptions import MlflowException

    try:
        return c.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise


def _expires(rm, lease: float) -> float:
    try:
        return float((rm.tags or {})["expires"])
    except (KeyError, TypeError, ValueError):  # not written by this code: its age decides
        return (rm.creation_timestamp or 0) / 1000 + lease


def _break_if_stale(c, settings: S.Settings, rm) -> bool:
    """Delete the lock model `rm` if its expiry passed and it is still the same lock; True when it did."""
    from mlflow.exceptions import MlflowException

    name, tags = lock_name(settings), dict(rm.tags or {})
    expired = time.time() - _expires(rm, settings.registry_lock_lease_seconds)
    if expired <= 0:
        return False
    again = _current(c, name)  # re-read just before deleting: only the stale one may go
    if again is None or dict(again.tags or {}).get("token") != tags.get("token"):
        return True
    _log.warning("broke a stale registry lock %s held by %s (expired %.0fs ago: its holder is gone)",
                 name, tags.get("holder", "an unknown writer"), expired)
    try:
        c.delete_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    return True


def _renew(c, name: str, token: str, lease: float, stop: threading.Event, lost: threading.Event) -> None:
    """While held: move the expiry forward every lease/3 seconds; mark it lost if it was taken over."""
    while not stop.wait(max(lease / 3, 0.2)):
        try:
            rm = _current(c, name)
            if rm is None or (rm.tags or {}).get("token") != token:
                lost.set()  # confirm() refuses every write from now on
                _log.warning("the registry lock %s was broken while held (paused longer than %gs?)", name, lease)
                return
            c.set_registered_model_tag(name, "expires", f"{time.time() + lease:.3f}")
        except Exception as exc:  # the server is away for a moment: the next beat tries again
            _log.warning("could not renew the registry lock %s: %s", name, _first_line(exc))


@contextlib.contextmanager
def _server_lock(settings: S.Settings):
    S.quiet_mlflow()
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    c, name = MlflowClient(tracking_uri=settings.tracking_uri), lock_name(settings)
    lease = max(settings.registry_lock_lease_seconds, 1.0)
    token = uuid.uuid4().hex
    command = sys.argv[1] if len(sys.argv) > 1 else "python"
    holder = f"{socket.gethostname()} pid {os.getpid()} ({command})"
    deadline = time.monotonic() + max(settings.registry_lock_seconds, 0)
    pause, seen = 0.1, None
    while True:
        tags = {"kind": LOCK_KIND, "holder": holder, "token": token, "expires": f"{time.time() + lease:.3f}"}
        try:
            c.create_registered_model(name, tags=tags, description=(
                f"Shipyard's write lock of {settings.model_name}: not a model. Held by one train/promote/rollback "
                "at a time, deleted when it is done; a stale one is broken after its `expires` tag."))
            break
        except MlflowException as exc:
            # RESOURCE_DOES_NOT_EXIST: taken, then released while the server looked it up to say so
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                continue
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise _unavailable(settings, exc) from None
        except Exception as exc:  # connection refused, DNS, TLS
            raise _unavailable(settings, exc) from None
        try:
            rm = _current(c, name)
            if rm is not None and (rm.tags or {}).get("token") == token:
                break  # our create went through and its answer was lost: ours
            if rm is None or _break_if_stale(c, settings, rm):
                continue
        except MlflowException as exc:
            raise _unavailable(settings, exc) from None
        seen = (rm.tags or {}).get("holder", "") or seen
        if time.monotonic() >= deadline:
            raise _busy(f"{name}" + (f" ({seen})" if seen else ""), settings)
        time.sleep(min(pause * random.uniform(0.5, 1.5), max(deadline - time.monotonic(), 0.01)))
        pause = min(pause * 2, 1.0)
    stop, lost = threading.Event(), threading.Event()
    beat = threading.Thread(target=_renew, args=(c, name, token, lease, stop, lost), daemon=True,
                            name="registry-lock")
    beat.start()
    _held[name] = (c, token, lost)
    try:
        yield
    finally:
        _held.pop(name, None)
        stop.set()
        beat.join()
        if not lost.is_set():
            _release(c, name, token, lease)


def _release(c, name: str, token: str, lease: float) -> None:
    try:
        rm = _current(c, name)
        if rm is not None and (rm.tags or {}).get("token") == token:
            c.delete_registered_model(name)
    except Exception as exc:  # the work is done; the next writer breaks the lock once it expires
        _log.warning("could not release the registry lock %s (%s): it expires within %gs", name,
                     _first_line(exc), lease)
