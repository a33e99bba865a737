"""Field test: adopt real notebook repos and run each generated project end to end.

Not part of `make test`: it needs a corpus of checked-out repos, PyPI (one fresh virtualenv per repo) and
a good while. `make field-test CORPUS=DIR` runs it with the project's venv.

    python scripts/field_test.py CORPUS_DIR [--jobs N] [--only NAME ...] [--markdown FILE] [--json FILE]
                                 [--keep DIR] [--timeout-train SECONDS]

CORPUS_DIR holds one folder per repo. Each repo is copied to a scratch folder (CORPUS_DIR is never
written), made a git repo if it is not one, adopted, installed into its own virtualenv, then trained,
promoted, served and probed. Every step gets a status (pass, partial, fail, skipped, n/a); a step whose
prerequisite did not pass is skipped (see DEPENDS). One line per repo is printed as it finishes, then a
markdown summary table. Exit code: 0 when every repo passed every step (n/a counts as passed), 1
otherwise, 2 on bad usage, 130 when interrupted (Ctrl-C or SIGTERM stop every command it started). See
docs/field-test.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OWNER = "field-test@example.org"
GIT = ["git", "-c", "user.name=Shipyard field test", "-c", f"user.email={OWNER}", "-c", "init.defaultBranch=main",
       "-c", "commit.gpgsign=false"]

STEPS = ["adopt", "install", "tests", "train", "promote", "serve", "predict-valid", "batch-identity",
         "predict-invalid", "metrics", "batch-predict", "check-data", "datacontract"]
# A step runs only when every step it depends on passed (or was partial); otherwise it is skipped.
DEPENDS = {
    "install": ["adopt"],
    "tests": ["install"],
    "train": ["install"],
    "promote": ["train"],
    "serve": ["promote"],
    "predict-valid": ["serve"],
    "batch-identity": ["predict-valid"],
    "predict-invalid": ["serve"],
    "metrics": ["serve"],
    "batch-predict": ["promote"],
    "check-data": ["install"],
    "datacontract": ["adopt"],  # and install when make contract-test writes a snapshot first (see step)
}

PASS, PARTIAL, FAIL, SKIP, NA = "pass", "partial", "fail", "skipped", "n/a"
GOOD = (PASS, PARTIAL)
SYMBOL = {PASS: "✅", PARTIAL: "⚠️", FAIL: "❌", SKIP: "–", NA: "n/a"}
LABEL = {PASS: "ok", PARTIAL: "partial", FAIL: "FAIL", SKIP: "skip", NA: "n/a"}

TIMEOUT = {"git": 300, "adopt": 600, "venv": 300, "install": 1800, "tests": 1800, "help": 180, "promote": 600,
           "ready": 120, "stop": 20, "http": 60, "check-data": 900, "datacontract": 900, "tool-install": 1800,
           "request-example": 300, "promtool": 60, "batch-predict": 900}
REASON_CHARS = 160
OUTPUT_LINES = 30
PRINT_LOCK = threading.Lock()
# Every child runs in a session of its own (so a timeout can kill its whole group); on Ctrl-C or SIGTERM the
# runner stops them itself, by these handles.
ACTIVE: set[subprocess.Popen] = set()
ACTIVE_LOCK = threading.Lock()
STOPPING = threading.Event()


# ---------------------------------------------------------------------------------------------------- processes

@dataclass
class Proc:
    rc: int | None  # None: timed out (and killed)
    out: str
    err: str
    seconds: float
    timeout: float

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def text(self) -> str:
        return self.out + ("\n" if self.out and self.err else "") + self.err


def _kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the process group the runner created for `proc` (start_new_session)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run(cmd: list[Any], *, cwd: Path, env: dict[str, str], timeout: float, stdin: str | None = None,
        merge: bool = False) -> Proc:
    """Run `cmd` to completion or until `timeout` (then its whole process group is killed)."""
    args = [str(c) for c in cmd]
    start = time.monotonic()
    if STOPPING.is_set():
        return Proc(130, "", "error: interrupted", 0.0, timeout)
    try:
        proc = start_process(args, cwd=cwd, env=env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge else subprocess.PIPE, text=True)
    except OSError as exc:
        return Proc(127, "", f"error: cannot run {args[0]}: {exc}", 0.0, timeout)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a grandchild left its own group and holds the pipe
            out, err = "", ""
        rc = None
    finally:
        _kill_group(proc)  # what it left behind in its session (a server started by a test, say)
        forget(proc)
    if STOPPING.is_set() and rc != 0:
        rc, err = 130, (err or "") + "\nerror: interrupted"
    return Proc(rc, out or "", err or "", time.monotonic() - start, timeout)


def start_process(args: list[str], **kwargs: Any) -> subprocess.Popen:
    """Popen in a new session, remembered in ACTIVE until `forget`."""
    with ACTIVE_LOCK:
        proc = subprocess.Popen(args, errors="replace" if kwargs.get("text") else None, start_new_session=True,
                                **kwargs)
        ACTIVE.add(proc)
    return proc


def forget(proc: subprocess.Popen) -> None:
    with ACTIVE_LOCK:
        ACTIVE.discard(proc)


def stop_everything() -> None:
    """Ctrl-C or SIGTERM: no new command starts; every running one is terminated, then killed."""
    STOPPING.set()
    with ACTIVE_LOCK:
        running = list(ACTIVE)
    for proc in running:
        _kill_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in running:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _kill_group(proc, signal.SIGKILL)


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("MLFLOW_TRACKING_URI", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(name, None)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def venv_env(venv: Path) -> dict[str, str]:
    env = base_env()
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: object | None = None, timeout: float = TIMEOUT["http"]) -> tuple[int, str]:
    """(status, text); status 0 when the connection itself failed (text says why)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError) as err:
        return 0, f"{type(err).__name__}: {err}"


# ---------------------------------------------------------------------------------------------------- reasons

def one_line(text: str, limit: int = REASON_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tail(text: str, n: int = OUTPUT_LINES) -> list[str]:
    return [line.rstrip() for line in text.rstrip().splitlines()[-n:]]


_EXC = re.compile(r"^\s*([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)|Killed|Traceback)\b")


def error_line(text: str) -> str:
    """The most telling line of a failed command's output: its last `error:` line, else the last exception line,
    else its last non-empty line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "(no output)"
    for pattern in (re.compile(r"^(\S+: )?error\b", re.IGNORECASE), _EXC):
        hits = [i for i, line in enumerate(lines) if pattern.search(line) and not line.startswith("Traceback")]
        if hits:
            i = hits[-1]
            # `LookupError:` and the like put their message on the next lines
            more = [line for line in lines[i + 1:i + 4]
                    if not re.fullmatch(r"[*=\-_~^ ]+", line) and not line.startswith("hint:")][:2]
            return " ".join([lines[i], *more]) if lines[i].endswith(":") else lines[i]
    return lines[-1]


def failed_reason(proc: Proc, what: str = "") -> str:
    prefix = f"{what}: " if what else ""
    if proc.rc is None:
        last = error_line(proc.text) if proc.text.strip() else ""
        return f"{prefix}timed out after {proc.timeout:.0f} s" + (f" (last output: {last})" if last else "")
    line = re.sub(r"^error: ", "", error_line(proc.text))
    if proc.rc < 0:
        try:
            name = signal.Signals(-proc.rc).name
        except ValueError:
            name = f"signal {-proc.rc}"
        return f"{prefix}killed by {name} (last output: {line})"
    return f"{prefix}exit {proc.rc}: {line}"


def pip_reason(proc: Proc) -> str:
    if proc.rc is None:
        return failed_reason(proc, "pip install")
    lines = [line.strip() for line in proc.text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:") and "dependency resolver does not" not in line]
    specific = [line for line in errors if re.search(r"No matching distribution|conflicting dependencies|"
                                                       r"Failed to build|Could not build|requires a different Python",
                                                       line)]
    if specific:
        return specific[0]
    if errors:
        return errors[0]
    if "subprocess-exited-with-error" in proc.text:  # a source distribution failed to build: which, and why
        before = proc.text[: proc.text.index("subprocess-exited-with-error")]
        collecting = re.findall(r"^\s*Collecting (\S+)", before, re.MULTILINE)
        what = next((line.lstrip("× ").strip() for line in lines if line.startswith("×")), "a build step failed")
        block = re.search(r"╰─> \[\d+ lines? of output\]\s*\n(.*?)\[end of output\]", proc.text, re.S)
        inner = [line.strip() for line in (block.group(1).splitlines() if block else []) if line.strip()]
        why = next((line for line in reversed(inner) if re.match(r"^[\w.]*(Error|Exception)\b", line)),
                   inner[-1] if inner else "")
        package = f"{collecting[-1]}: " if collecting else ""
        return f"pip install: {package}{what.rstrip('.')}" + (f": {why}" if why else "")
    return failed_reason(proc, "pip install")


def pytest_reason(proc: Proc) -> str:
    """`<counts>: <first failed test> - <its first error line>`."""
    if proc.rc is None:
        return failed_reason(proc, "pytest")
    lines = [line.strip() for line in proc.text.splitlines() if line.strip()]
    counts = next((line.strip("= ") for line in reversed(lines)
                   if re.search(r"\d+ (failed|passed|errors?|skipped|deselected)|no tests ran", line)), "")
    counts = re.sub(r" in [\d.]+s.*$", "", re.sub(r", \d+ warnings?", "", counts))
    first = next((line for line in lines if line.startswith(("FAILED ", "ERROR "))), "")
    if first and " - " not in first:
        error = next((line[1:].strip() for line in lines if line.startswith("E ")), "")
        first = f"{first} - {error}" if error else first
    first = re.sub(r"^(FAILED|ERROR) (tests/)?", lambda m: "" if m.group(1) == "FAILED" else "error in ", first)
    if not first:
        first = "no tests collected" if proc.rc == 5 else error_line(proc.text)
    return f"{counts}: {first}" if counts else f"exit {proc.rc}: {first}"


def pytest_output(text: str) -> list[str]:
    """The start of the first failure and the short summary (the tail alone is mostly warnings)."""
    lines = text.rstrip().splitlines()
    at = next((i for i, line in enumerate(lines) if re.match(r"^=+ (FAILURES|ERRORS) =+$", line)), None)
    summary = next((i for i, line in enumerate(lines) if "short test summary info" in line), None)
    if at is None or summary is None:
        return tail(text)
    block = [lines[at + 1]] if at + 1 < len(lines) else []
    for line in lines[at + 2:summary]:
        if re.match(r"^(_{3,} .* _{3,}|=+ .* =+)$", line):  # the next failure, or the next section
            break
        block.append(line)
    return [*block[:1], "[...]", *block[1:][-(OUTPUT_LINES - 12):], *lines[summary:][-10:]]


def check_data_reason(proc: Proc) -> str:
    if proc.rc is None:
        return failed_reason(proc, "check-data")
    lines = proc.text.splitlines()
    for i, line in enumerate(lines):
        if re.search(r"\d+ rule\(s\) broken", line):
            first = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return f"{line.strip()} {first}"
    return failed_reason(proc)


def datacontract_reason(proc: Proc) -> str:
    """`Data contract is invalid (N errors): 1) <the first error>`, from datacontract's closing summary."""
    if proc.rc is None:
        return failed_reason(proc, "datacontract")
    lines = proc.text.splitlines()
    at = next((i for i, line in enumerate(lines) if re.search(r"found the following (errors|warnings)", line)), None)
    if at is None:
        return failed_reason(proc)
    summary = re.sub(r"^\W+", "", lines[at]).split(",")[0].strip()
    items: list[list[str]] = []
    for line in lines[at + 1:]:
        if re.match(r"^\d+\) ", line):
            items.append([line.strip()])
        elif items and line.strip():
            items[-1].append(line.strip())
    if not items:
        return f"exit {proc.rc}: {summary}"
    cause = next((item for item in items if "Data Contract Tests" in item[0]), items[0])
    return f"{summary} ({len(items)} problem{'s' if len(items) > 1 else ''}): {' '.join(cause)}"


# ---------------------------------------------------------------------------------------------------- results

@dataclass
class Step:
    status: str = SKIP
    seconds: float = 0.0
    reason: str = ""
    output: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "seconds": round(self.seconds, 1), "reason": self.reason,
                                "output": self.output}
        if self.details:
            data["details"] = self.details
        return data


def passed(reason: str = "", **details: Any) -> Step:
    return Step(PASS, reason=reason, details=details)


def failed(reason: str, output: str | list[str] = "", **details: Any) -> Step:
    lines = tail(output) if isinstance(output, str) else output
    return Step(FAIL, reason=one_line(reason), output=lines, details=details)


@dataclass
class RepoResult:
    name: str
    steps: dict[str, Step]
    adopt: dict[str, Any]
    seconds: float
    scratch: str | None

    def first_problem(self) -> tuple[str, Step] | None:
        for status in (FAIL, PARTIAL):
            for name in STEPS:
                if self.steps[name].status == status:
                    return name, self.steps[name]
        return None

    @property
    def all_passed(self) -> bool:
        return all(step.status in (PASS, NA) for step in self.steps.values())

    def as_dict(self) -> dict[str, Any]:
        problem = self.first_problem()
        return {
            "name": self.name,
            "passed": self.all_passed,
            "seconds": round(self.seconds, 1),
            "scratch": self.scratch,
            "adopt": self.adopt,
            "first_failure": None if problem is None else {"step": problem[0], "reason": problem[1].reason},
            "steps": {name: self.steps[name].as_dict() for name in STEPS},
        }


# ---------------------------------------------------------------------------------------------------- tools

class Tools:
    """Tools shared by every repo: shipyard, promtool, and a datacontract-cli venv created once."""

    def __init__(self, python: str) -> None:
        self.python = python
        self.shipyard = self._find_shipyard()
        self.promtool = shutil.which("promtool")
        self._lock = threading.Lock()
        self._datacontract: tuple[str | None, str] | None = None

    @staticmethod
    def _find_shipyard() -> str | None:
        for candidate in (Path(sys.executable).parent / "shipyard", ROOT / ".venv" / "bin" / "shipyard"):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        return shutil.which("shipyard")

    def datacontract(self) -> tuple[str | None, str]:
        """(path of the datacontract binary, "") or (None, why it is not available)."""
        with self._lock:
            if self._datacontract is None:
                self._datacontract = self._make_datacontract()
            return self._datacontract

    def _make_datacontract(self) -> tuple[str | None, str]:
        found = shutil.which("datacontract")
        if found:
            return found, ""
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shipyard-field"
        venv = cache / "datacontract-venv"
        binary, stamp = venv / "bin" / "datacontract", venv / ".shipyard-field-installed"
        if stamp.is_file() and binary.is_file():
            return str(binary), ""
        shutil.rmtree(venv, ignore_errors=True)
        cache.mkdir(parents=True, exist_ok=True)
        log(f"installing datacontract-cli into {venv} (once)")
        env = base_env()
        made = run([self.python, "-m", "venv", venv], cwd=cache, env=env, timeout=TIMEOUT["venv"], merge=True)
        if not made.ok:
            return None, failed_reason(made, "venv for datacontract-cli")
        pip = run([venv / "bin" / "python", "-m", "pip", "install", "datacontract-cli[csv,parquet,xlsx]"],
                  cwd=cache, env=venv_env(venv), timeout=TIMEOUT["tool-install"], merge=True)
        if not pip.ok or not binary.is_file():
            return None, "installing datacontract-cli failed: " + pip_reason(pip)
        stamp.write_text("ok\n", encoding="utf-8")
        return str(binary), ""


def log(message: str) -> None:
    with PRINT_LOCK:
        print(f"[field-test] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------- one repo

_READ_ROWS = r"""
import json, sys
from pathlib import Path
import pandas as pd
path, target, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
suffix = path.suffix.lower()
if suffix in (".xlsx", ".xls"):
    df = pd.read_excel(path)
elif suffix in (".parquet", ".pq"):
    df = pd.read_parquet(path)
elif suffix == ".tsv":
    df = pd.read_csv(path, sep="\t")
else:
    df = pd.read_csv(path, sep=None, engine="python")
df = df.drop(columns=[target], errors="ignore").head(n)
print(df.to_json(orient="records", date_format="iso"))
"""


class RepoRun:
    def __init__(self, name: str, source: Path, scratch: Path, tools: Tools, timeout_train: float,
                 verbose: bool) -> None:
        self.name, self.source, self.scratch, self.tools = name, source, scratch, tools
        # the folder's name is what adopt names the package after: the repo's own name, as a user has it
        self.project, self.venv = scratch / name, scratch / "venv"
        self.py = self.venv / "bin" / "python"
        self.timeout_train = timeout_train
        self.verbose = verbose
        self.steps: dict[str, Step] = {}
        self.adopt: dict[str, Any] = {}
        self.package = ""
        self.data = ""
        self.target = ""
        self.server: subprocess.Popen | None = None
        self.server_log: Path = scratch / "serve.log"
        self.base = ""
        self.rows: list[dict[str, Any]] = []
        self._help: dict[tuple[str, ...], str] = {}

    # -- driver

    def execute(self) -> RepoResult:
        start = time.monotonic()
        try:
            for name in STEPS:
                if name == "check-data":
                    self.stop_server()
                if STOPPING.is_set():
                    self.steps[name] = Step(SKIP, reason="interrupted")
                    continue
                blocked = [d for d in DEPENDS.get(name, []) if self.steps[d].status not in GOOD]
                if blocked:
                    self.steps[name] = Step(SKIP, reason=f"{blocked[0]} did not pass")
                    continue
                if self.verbose:
                    log(f"{self.name}: {name} ...")
                began = time.monotonic()
                try:
                    result = getattr(self, "step_" + name.replace("-", "_"))()
                except Exception as exc:  # a bug of the runner: say so, keep going with the next repo
                    traceback.print_exc(file=sys.stderr)
                    result = failed(f"runner error: {type(exc).__name__}: {exc}", traceback.format_exc())
                result.seconds = time.monotonic() - began
                self.steps[name] = result
                if self.verbose:
                    log(f"{self.name}: {name} {result.status} ({result.seconds:.0f} s) {result.reason}")
        finally:
            self.stop_server()
        return RepoResult(self.name, self.steps, self.adopt, time.monotonic() - start, str(self.scratch))

    def pyrun(self, *args: Any, timeout: float, cwd: Path | None = None, env: dict[str, str] | None = None) -> Proc:
        return run([self.py, *args], cwd=cwd or self.project, env={**venv_env(self.venv), **(env or {})},
                   timeout=timeout, merge=True)

    def git(self, *args: str) -> Proc:
        return run([*GIT, *args], cwd=self.project, env=base_env(), timeout=TIMEOUT["git"], merge=True)

    def commit(self, message: str) -> Proc | None:
        """`git add -A && git commit`; None when it worked (or there was nothing to commit)."""
        added = self.git("add", "-A")
        if not added.ok:
            return added
        if not self.git("status", "--porcelain").out.strip():
            return None
        done = self.git("commit", "-q", "--no-verify", "-m", message)
        return None if done.ok else done

    # -- steps

    def step_adopt(self) -> Step:
        if not self.tools.shipyard:
            return failed("shipyard not found (run with the project venv: make field-test CORPUS=DIR)")
        try:
            shutil.copytree(self.source, self.project, symlinks=True)
        except (OSError, shutil.Error) as exc:
            return failed(f"copying the repo failed: {exc}")
        dotgit = self.project / ".git"
        if dotgit.is_file() or dotgit.is_symlink():  # a worktree or submodule pointer: useless in a copy
            dotgit.unlink()
        if not dotgit.is_dir():
            made = self.git("init", "-q")
            if not made.ok:
                return failed(failed_reason(made, "git init"), made.text)
        problem = self.commit("notebooks (as checked out)")
        if problem:
            return failed(failed_reason(problem, "git commit"), problem.text)
        proc = run([self.tools.shipyard, "adopt", ".", "--yes", "--json", "--owner", OWNER], cwd=self.project,
                   env=base_env(), timeout=TIMEOUT["adopt"])
        report: dict[str, Any] = {}
        try:
            report = json.loads(proc.out) if proc.out.strip() else {}
        except ValueError:
            report = {}
        self.adopt = summarize_report(report)
        self.package = self.adopt.get("package") or ""
        self.data = self.adopt.get("data") or ""
        self.target = self.adopt.get("target") or ""
        output = tail(proc.err + ("\n" + proc.out if not report else ""))
        if not proc.ok:
            why = report.get("error") if isinstance(report.get("error"), str) else ""
            reason = f"exit {proc.rc}: {why}" if why and proc.rc is not None else failed_reason(proc)
            return failed(reason, output, **self.adopt)
        if not report:
            return failed("adopt printed no JSON report", output)
        if not self.package:
            return failed("the adopt report names no package", output, **self.adopt)
        problem = self.commit("shipyard adopt")
        if problem:
            return failed(failed_reason(problem, "git commit after adopt"), problem.text, **self.adopt)
        step = passed(**self.adopt)
        step.output = output
        return step

    def step_install(self) -> Step:
        made = run([self.tools.python, "-m", "venv", self.venv], cwd=self.scratch, env=base_env(),
                   timeout=TIMEOUT["venv"], merge=True)
        if not made.ok:
            return failed(failed_reason(made, "python -m venv"), made.text)
        pip = self.pyrun("-m", "pip", "install", "-e", ".[dev]", timeout=TIMEOUT["install"])
        if not pip.ok:
            return failed(pip_reason(pip), pip.text)
        found = self.pyrun("-c", f"import importlib.util, sys; sys.exit(importlib.util.find_spec({self.package!r}) is None)",
                           timeout=TIMEOUT["help"], cwd=self.scratch)
        if not found.ok:
            kept = [c for c in self.adopt.get("conflicts", []) if c in ("pyproject.toml", "setup.py", "setup.cfg")]
            why = f" ({', '.join(kept)} is the repo's own: adopt kept it as a conflict)" if kept else ""
            return failed(f"pip install worked, but package `{self.package}` is not importable{why}", pip.text)
        if "pyproject.toml" in self.adopt.get("conflicts", []):
            return Step(PARTIAL, reason="installed the repo's own pyproject.toml (adopt kept it as a conflict): the "
                                        "generated dependencies and [dev] extra are not in it", output=tail(pip.text))
        return passed()

    def step_tests(self) -> Step:
        proc = self.pyrun("-m", "pytest", "-q", "-p", "no:cacheprovider", timeout=TIMEOUT["tests"],
                          env={"COLUMNS": "200"})
        if not proc.ok:
            return failed(pytest_reason(proc), pytest_output(proc.text))
        counts = next((line for line in reversed(proc.text.splitlines()) if " passed" in line), "")
        return passed(one_line(re.sub(r" in [\d.]+s.*$", "", re.sub(r", \d+ warnings?", "", counts.strip("= ")))))

    def help_text(self, *args: str) -> str:
        """`python -m <pkg> [ARGS] --help` (cached; "" when it fails)."""
        if args not in self._help:
            proc = self.pyrun("-m", self.package, *args, "--help", timeout=TIMEOUT["help"])
            self._help[args] = proc.text if proc.ok else ""
        return self._help[args]

    def step_train(self) -> Step:
        extra: list[str] = []
        if "--max-minutes" in self.help_text("train"):
            extra = ["--max-minutes", str(max(1, int(self.timeout_train * 0.8 // 60)))]
        proc = self.pyrun("-m", self.package, "train", *extra, timeout=self.timeout_train)
        if proc.ok:
            registered = re.findall(r"^registered .*$", proc.text, re.MULTILINE)
            return Step(PASS, reason=one_line(registered[-1]) if registered else "", output=tail(proc.text),
                        details={"args": extra, "registered": registered[-1] if registered else None})
        why = failed_reason(proc)
        if "notebook module failed" in proc.text and "--keep-going" in self.help_text("train"):
            # a cell of the notebook failed: does its model train when failing cells are skipped?
            going = self.pyrun("-m", self.package, "train", "--keep-going", *extra, timeout=self.timeout_train)
            skipped = re.findall(r"^skipped a failing cell \(--keep-going\): .*$", going.text, re.MULTILINE)
            if going.ok and re.search(r"\(notebook\) with alias|^notebook ", going.text, re.MULTILINE):
                first = skipped[0].split(": ", 1)[1] if skipped else "?"
                reason = f"the notebook model trained with --keep-going ({len(skipped)} failing cell(s) skipped: {first})"
                return Step(PARTIAL, reason=one_line(reason), output=tail(going.text),
                            details={"args": extra, "notebook_error": why})
        base = self.pyrun("-m", self.package, "train", "--baseline", *extra, timeout=self.timeout_train)
        output = tail(proc.text, OUTPUT_LINES // 2) + ["--- train --baseline ---"] + tail(base.text, OUTPUT_LINES // 2)
        if base.ok:
            return Step(PARTIAL, reason=one_line(f"baseline only: the notebook model did not train: {why}"),
                        output=output, details={"args": extra, "notebook_error": why})
        return failed(f"{why}; train --baseline: {failed_reason(base)}", output, args=extra)

    def step_promote(self) -> Step:
        proc = self.pyrun("-m", self.package, "promote", timeout=TIMEOUT["promote"])
        if proc.ok:
            return Step(PASS, output=tail(proc.text))
        refused = [line.strip() for line in proc.text.splitlines() if line.strip().startswith("refused:")]
        return failed(f"exit {proc.rc}: {refused[-1]}" if refused and proc.rc is not None else failed_reason(proc),
                      proc.text)

    def step_serve(self) -> Step:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        logfile = open(self.server_log, "w", encoding="utf-8")  # the child keeps its own handle
        try:
            self.server = start_process(
                [str(self.py), "-m", self.package, "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=self.project, env=venv_env(self.venv), stdin=subprocess.DEVNULL, stdout=logfile,
                stderr=subprocess.STDOUT)
        finally:
            logfile.close()
        deadline = time.monotonic() + TIMEOUT["ready"]
        status, text = 0, ""
        while time.monotonic() < deadline and not STOPPING.is_set():
            if self.server.poll() is not None:
                out = self.server_log.read_text(encoding="utf-8", errors="replace")
                return failed(f"the service exited with code {self.server.returncode} before it was ready: "
                              f"{error_line(out)}", out)
            status, text = http("GET", f"{self.base}/ready", timeout=5)
            if status == 200:
                return Step(PASS, details={"port": port, "ready": _json(text)})
            time.sleep(0.5)
        out = self.server_log.read_text(encoding="utf-8", errors="replace")
        answer = _json(text)
        why = answer.get("reason") if isinstance(answer, dict) and answer.get("reason") else text or "no answer"
        return failed(f"GET /ready was not 200 within {TIMEOUT['ready']} s (last: {status or 'no connection'} "
                      f"{one_line(str(why), 100)})", out)

    def stop_server(self) -> None:
        """SIGTERM, then SIGKILL after 20 s. A service that does not stop, or had died, fails `serve`."""
        server, self.server = self.server, None
        if server is None:
            return
        serve = self.steps.get("serve")
        problem = ""
        if server.poll() is None:
            _kill_group(server, signal.SIGTERM)
            try:
                server.wait(timeout=TIMEOUT["stop"])
            except subprocess.TimeoutExpired:
                _kill_group(server, signal.SIGKILL)
                server.wait(timeout=10)
                problem = f"the service did not stop within {TIMEOUT['stop']} s of SIGTERM (killed)"
        elif serve is not None and serve.status == PASS:
            problem = f"the service died while it was being probed (exit {server.returncode})"
        _kill_group(server)  # whatever it started in its session
        forget(server)
        if serve is not None:
            serve.details["exit"] = server.returncode
            if problem and serve.status == PASS and not STOPPING.is_set():
                serve.status, serve.reason, serve.output = FAIL, one_line(problem), self.server_tail()

    def server_tail(self) -> list[str]:
        try:
            return tail(self.server_log.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return []

    def request_rows(self) -> tuple[list[dict[str, Any]], str, str]:
        """(rows, where they came from, error). Up to 100 rows the served model can take."""
        if re.search(r"\brequest-example\b", self.help_text()):
            rows_flag = ["--rows", "100"] if "--rows" in self.help_text("request-example") else []
            proc = run([self.py, "-m", self.package, "request-example", *rows_flag], cwd=self.project,
                       env=venv_env(self.venv), timeout=TIMEOUT["request-example"])
            if not proc.ok:
                return [], "request-example", failed_reason(proc, "request-example")
            body = _json(proc.out)
            if body is None and proc.out.strip():  # something else printed first: the JSON is the last line
                body = _json(proc.out.strip().splitlines()[-1])
            records = body.get("records") if isinstance(body, dict) else None
            if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
                return [], "request-example", "request-example did not print {\"records\": [{...}, ...]}: " + one_line(
                    proc.out, 80)
            return records, "request-example", ""
        if not self.data:
            return [], "data file", "the adopt report names no data file"
        proc = self.pyrun("-c", _READ_ROWS, self.data, self.target, "100", timeout=TIMEOUT["request-example"])
        if not proc.ok:
            return [], "data file", failed_reason(proc, f"reading {self.data}")
        rows = _json(proc.out.strip().splitlines()[-1] if proc.out.strip() else "")
        if not isinstance(rows, list) or not rows:
            return [], "data file", f"no rows read from {self.data}"
        return rows, f"data file {self.data}", ""

    def step_predict_valid(self) -> Step:
        rows, source, error = self.request_rows()
        if error:
            return failed(error, self.server_tail(), source=source)
        self.rows = rows
        body = rows[:3]
        status, text = http("POST", f"{self.base}/predict", {"records": body})
        answer = _json(text)
        details = {"source": source, "rows": len(body), "status": status}
        if status != 200:
            return failed(f"POST /predict ({len(body)} rows from {source}) -> {status}: {_detail(answer, text)}",
                          self.server_tail(), **details)
        predictions = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(predictions, list) or len(predictions) != len(body):
            got = "no predictions list" if not isinstance(predictions, list) else f"{len(predictions)} predictions"
            return failed(f"POST /predict ({len(body)} rows) -> 200 but {got}: {one_line(text, 80)}",
                          self.server_tail(), **details)
        return passed(f"{len(body)} rows from {source}", **details, predictions=predictions)

    def step_batch_identity(self) -> Step:
        if len(self.rows) < 2:
            return Step(NA, reason="only one example row available")
        # up to 100 rows; when fewer are at hand (request-example keeps a few), they are repeated to 100
        batch = (self.rows * -(-100 // len(self.rows)))[:100]
        distinct = min(len(self.rows), 100)
        s1, t1 = http("POST", f"{self.base}/predict", {"records": batch[:1]})
        s2, t2 = http("POST", f"{self.base}/predict", {"records": batch})
        a1, a2 = _json(t1), _json(t2)
        if s1 != 200:
            return failed(f"first row alone -> {s1}: {_detail(a1, t1)}", self.server_tail())
        if s2 != 200:
            return failed(f"batch of {len(batch)} rows -> {s2}: {_detail(a2, t2)}", self.server_tail())
        p1 = a1.get("predictions") if isinstance(a1, dict) else None
        p2 = a2.get("predictions") if isinstance(a2, dict) else None
        if not p1 or not p2 or len(p2) != len(batch):
            return failed(f"unexpected answers: alone {one_line(t1, 60)}; batch has "
                          f"{len(p2) if isinstance(p2, list) else 'no'} predictions for {len(batch)} rows")
        if not same_prediction(p1[0], p2[0]):
            return failed(f"first row alone -> {p1[0]!r}, in a batch of {len(batch)} -> {p2[0]!r}",
                          alone=p1[0], batched=p2[0])
        how = f"batch of {len(batch)}" + (f" ({distinct} distinct rows, repeated)" if distinct < len(batch) else "")
        return passed(how, batch=len(batch), distinct=distinct, prediction=p1[0])

    def step_predict_invalid(self) -> Step:
        status, text = http("GET", f"{self.base}/schema")
        schema = _schema_columns(_json(text)) if status == 200 else None
        row = dict(self.rows[0]) if self.rows else {}
        if schema:
            numeric = [c for c in schema if _is_numeric(c["dtype"])]
            strings = [c for c in schema if _is_stringy(c["dtype"])]
            column = (numeric or strings or schema)[0]["name"]
            bad: Any = "not a number" if numeric else {"not": "a value"}
            if not row:
                row = {c["name"]: _placeholder(c["dtype"]) for c in schema}
            how = f"/schema: {'numeric' if numeric else 'string'} column"
        else:
            if not row:
                return failed("no /schema and no valid row to corrupt")
            candidates = [k for k, v in row.items() if _numeric_looking(v)]
            if not candidates:
                return failed("no /schema and no numeric-looking value in the valid row")
            how = f"no /schema (GET /schema -> {status}): numeric-looking value"
            # Without /schema the model's inputs are unknown: a column the model does not read may rightly be
            # ignored, so go on to the next numeric-looking column while the service answers 200.
            ignored: list[str] = []
            for column in candidates[:20]:
                step = self._reject(row, column, "not a number", how)
                if step.status == PASS or step.details.get("status") != 200:
                    if ignored:
                        step.details["ignored"] = ignored
                        step.reason = one_line(f"{step.reason}; accepted first: {', '.join(ignored)}")
                    return step
                ignored.append(column)
            return failed(f"no numeric-looking column was rejected: {', '.join(ignored)}='not a number' -> 200",
                          self.server_tail(), ignored=ignored)
        return self._reject(row, column, bad, how)

    def _reject(self, row: dict[str, Any], column: str, bad: Any, how: str) -> Step:
        """POST `row` with `column` set to `bad`; pass on 422 with a detail entry naming `column`."""
        row = {**row, column: bad}
        status, text = http("POST", f"{self.base}/predict", {"records": [row]})
        answer = _json(text)
        details = {"column": column, "sent": bad, "how": how, "status": status}
        if status != 422:
            return failed(f"{column}={bad!r} -> {status} (expected 422): {_detail(answer, text)}",
                          self.server_tail(), **details)
        entries = answer.get("detail") if isinstance(answer, dict) else None
        entries = entries if isinstance(entries, list) else [entries] if entries else []
        if not any(_names_column(e, column) for e in entries):
            return failed(f"{column}={bad!r} -> 422 but no detail entry names `{column}`: {_detail(answer, text)}",
                          **details)
        return passed(f"{column} ({how})", **details)

    def step_metrics(self) -> Step:
        status, text = http("GET", f"{self.base}/metrics")
        if status != 200:
            return failed(f"GET /metrics -> {status}: {one_line(text, 100)}", self.server_tail())
        if not self.tools.promtool:
            return Step(NA, reason="promtool not installed", details={"bytes": len(text)})
        proc = run([self.tools.promtool, "check", "metrics"], cwd=self.scratch, env=base_env(),
                   timeout=TIMEOUT["promtool"], stdin=text, merge=True)
        lines = [line for line in proc.text.splitlines() if line.strip()]
        if proc.ok and not lines:
            return passed()
        return failed(f"promtool check metrics: exit {proc.rc}: " + (lines[0] if lines else "(no output)"), proc.text,
                      problems=len(lines))

    def step_batch_predict(self) -> Step:
        """`predict DATA` on the training data itself: every row scored, none rejected by the project's checks."""
        if not self.data:
            return failed("the adopt report names no data file")
        out = self.scratch / "batch" / "scored.csv"
        proc = self.pyrun("-m", self.package, "predict", self.data, "--output", str(out),
                          timeout=TIMEOUT["batch-predict"])
        if not proc.ok:
            return failed(failed_reason(proc, "predict"), proc.text)
        said = re.search(r"scored (\d+) row\(s\)", proc.out)
        refused = re.search(r"(\d+) row\(s\) rejected", proc.out)
        scored = int(said.group(1)) if said else None
        rejected = int(refused.group(1)) if refused else 0
        details = {"scored": scored, "rejected": rejected}
        if scored is None:
            return failed(f"predict exit 0 but no 'scored N row(s)' line: {one_line(proc.out, 100)}", proc.text)
        if rejected:  # the training data breaks the rules inferred from it: the checks and the contract disagree
            return Step(PARTIAL, reason=f"{rejected} training row(s) rejected, {scored} scored", output=tail(proc.text),
                        details=details)
        return Step(PASS, reason=f"{scored} rows scored", output=tail(proc.text), details=details)

    def step_check_data(self) -> Step:
        if not self.data:
            return failed("the adopt report names no data file")
        proc = self.pyrun("-m", self.package, "check-data", self.data, timeout=TIMEOUT["check-data"])
        if proc.ok:
            return Step(PASS, output=tail(proc.text))
        return failed(check_data_reason(proc), proc.text)

    def step_datacontract(self) -> Step:
        contracts = sorted((self.project / "contracts").glob("*.odcs.yaml"))
        if not contracts:
            return failed("no contracts/*.odcs.yaml in the generated project")
        stem = Path(self.data).stem if self.data else ""
        contract = next((c for c in contracts if c.name == f"{stem}.odcs.yaml"), contracts[0])
        binary, why = self.tools.datacontract()
        if not binary:
            return failed(why)
        makefile = self.project / "Makefile"
        recipe = makefile.read_text(encoding="utf-8", errors="replace") if makefile.is_file() else ""
        has_target = re.search(r"^contract-test\s*:", recipe, re.MULTILINE)
        if has_target and "--snapshot" in recipe and self.steps.get("install", Step()).status not in GOOD:
            return Step(SKIP, reason="install did not pass (make contract-test writes a snapshot with the project)")
        if has_target and self.py.is_file():
            cmd: list[Any] = ["make", "contract-test", f"DATACONTRACT={binary}", f"PYTHON={self.py}"]
            how = "make contract-test"
        else:
            cmd = [binary, "test", contract.relative_to(self.project)]
            how = "datacontract test"
        env = venv_env(self.venv) if self.py.is_file() else base_env()
        proc = run(cmd, cwd=self.project, env={**env, "COLUMNS": "200"}, timeout=TIMEOUT["datacontract"], merge=True)
        details = {"contract": str(contract.relative_to(self.project)), "how": how}
        if proc.ok:
            skipped = re.search(r"Servers? block is missing|Skip executing tests", proc.text)
            if skipped:  # exit 0, but no rule was checked: say so rather than pass
                return Step(PARTIAL, reason=f"{how}: exit 0 but no check ran (Servers block is missing: "
                                            "datacontract skips executing tests)", output=tail(proc.text),
                            details=details)
            return Step(PASS, reason=how, output=tail(proc.text), details=details)
        return failed(f"{how}: {datacontract_reason(proc)}", proc.text, **details)


# ---------------------------------------------------------------------------------------------------- helpers

def summarize_report(report: dict[str, Any]) -> dict[str, Any]:
    if not report:
        return {}

    def value(key: str) -> Any:
        item = report.get(key)
        return item.get("value") if isinstance(item, dict) else item

    model = report.get("model") if isinstance(report.get("model"), dict) else {}
    warnings = report.get("warnings") if isinstance(report.get("warnings"), list) else []
    files = report.get("files") if isinstance(report.get("files"), dict) else {}
    return {
        "package": report.get("package"),
        "notebook": value("notebook"),
        "data": value("data"),
        "target": value("target"),
        "task": report.get("task"),
        "model": model.get("class") or model.get("variable"),
        "framework": model.get("framework"),
        "warnings": len(warnings),
        "warning_codes": sorted({str(w.get("code")) for w in warnings if isinstance(w, dict)}),
        "conflicts": list(files.get("conflict") or []),
    }


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


def _detail(answer: Any, text: str, limit: int = 110) -> str:
    if isinstance(answer, dict) and "detail" in answer:
        detail = answer["detail"]
        if isinstance(detail, list) and detail:
            first = detail[0]
            if isinstance(first, dict):
                msg = first.get("message") or first.get("msg") or json.dumps(first)
                extra = f" (+{len(detail) - 1} more)" if len(detail) > 1 else ""
                return one_line(f"{msg}{extra}", limit)
        return one_line(json.dumps(detail) if not isinstance(detail, str) else detail, limit)
    return one_line(text or "(empty body)", limit)


def same_prediction(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool) or not (isinstance(a, numbers) and isinstance(b, numbers)):
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(same_prediction(x, y) for x, y in zip(a, b, strict=True))
        return a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0) or (math.isnan(a) and math.isnan(b))


def _schema_columns(schema: Any) -> list[dict[str, str]] | None:
    columns = schema.get("columns") if isinstance(schema, dict) else schema
    if not isinstance(columns, list):
        return None
    found = [{"name": str(c["name"]), "dtype": str(c.get("dtype") or c.get("type") or "")}
             for c in columns if isinstance(c, dict) and c.get("name") is not None]
    return found or None


def _is_numeric(dtype: str) -> bool:
    d = dtype.lower()
    return d.startswith(("int", "uint", "float", "double", "long", "number", "decimal")) or d in ("integer", "numeric")


def _is_stringy(dtype: str) -> bool:
    return dtype.lower() in ("object", "str", "string", "category", "text")


def _placeholder(dtype: str) -> Any:
    if _is_numeric(dtype):
        return 0
    if dtype.lower().startswith("bool"):
        return False
    if dtype.lower().startswith("datetime"):
        return "2020-01-01T00:00:00"
    return "x"


def _numeric_looking(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return bool(value.strip())
    return False


def _names_column(entry: Any, column: str) -> bool:
    if isinstance(entry, dict):
        if entry.get("column") == column or entry.get("field") == column:
            return True
        loc = entry.get("loc")
        if isinstance(loc, list) and column in [str(x) for x in loc]:
            return True
        message = str(entry.get("message") or entry.get("msg") or "")
        return f"`{column}`" in message or f"'{column}'" in message
    return isinstance(entry, str) and column in entry


# ---------------------------------------------------------------------------------------------------- output

def repo_line(result: RepoResult, width: int) -> str:
    problem = result.first_problem()
    parts = []
    for name in STEPS:
        step = result.steps[name]
        label = "baseline" if name == "train" and step.status == PARTIAL else LABEL[step.status]
        text = f"{name} {label}"
        if problem and problem[0] == name:
            text += f": {step.reason}"
        parts.append(text)
    return f"{result.name:<{width}}  " + " | ".join(parts) + f"  ({result.seconds:.0f} s)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(results: list[RepoResult]) -> str:
    head = ["repo", *STEPS, "first failure"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for result in results:
        problem = result.first_problem()
        first = f"{problem[0]}: {problem[1].reason}" if problem else ""
        cells = [result.name, *(SYMBOL[result.steps[s].status] for s in STEPS), _cell(first)]
        lines.append("| " + " | ".join(cells) + " |")
    counts = [f"{sum(r.steps[s].status == PASS for r in results)}/{sum(r.steps[s].status != NA for r in results)}"
              for s in STEPS]
    lines.append("| **passed** | " + " | ".join(counts) + " | |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Adopt each repo of CORPUS_DIR and run its generated project end "
                                                 "to end; one line per repo, then a summary table.")
    parser.add_argument("corpus", metavar="CORPUS_DIR", type=Path, help="one folder per notebook repo")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="repos run in parallel (default 1)")
    parser.add_argument("--only", action="extend", nargs="+", default=[], metavar="NAME",
                        help="run only these repos (repeatable)")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="write the summary table here")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every result here")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the scratch projects here (default: removed)")
    parser.add_argument("--timeout-train", type=float, default=1200, metavar="SECONDS",
                        help="timeout of `train` (and of `train --baseline`), default 1200")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every step to stderr as it runs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    corpus = args.corpus.resolve()
    if not corpus.is_dir():
        print(f"error: {corpus} is not a directory", file=sys.stderr)
        return 2
    repos = sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("."))
    if args.only:
        unknown = sorted(set(args.only) - {p.name for p in repos})
        if unknown:
            print(f"error: not in {corpus}: {', '.join(unknown)}", file=sys.stderr)
            return 2
        repos = [p for p in repos if p.name in set(args.only)]
    if not repos:
        print(f"error: no repo folders in {corpus}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2

    keep = args.keep.resolve() if args.keep else None
    if keep is not None:
        if keep == corpus or corpus in keep.parents or keep in corpus.parents:
            print("error: --keep must be outside CORPUS_DIR", file=sys.stderr)
            return 2
        keep.mkdir(parents=True, exist_ok=True)
    scratch_root = keep or Path(tempfile.mkdtemp(prefix="shipyard-field-"))
    tools = Tools(sys.executable)
    if not tools.shipyard:
        print("error: shipyard not found; run with the project venv (make field-test CORPUS=DIR)", file=sys.stderr)
        return 2
    log(f"{len(repos)} repo(s), {args.jobs} at a time; scratch in {scratch_root}; shipyard {tools.shipyard}; "
        f"promtool {tools.promtool or 'not installed'}")
    width = max(len(p.name) for p in repos)

    def one(source: Path) -> RepoResult:
        scratch = scratch_root / source.name
        if scratch.exists():
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
        try:
            result = RepoRun(source.name, source, scratch, tools, args.timeout_train, args.verbose).execute()
        finally:
            if keep is None:
                shutil.rmtree(scratch, ignore_errors=True)
        if keep is None:
            result.scratch = None
        with PRINT_LOCK:
            print(repo_line(result, width), flush=True)
        return result

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    results: list[RepoResult] = []
    started = time.time()
    interrupted = False
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = [pool.submit(one, repo) for repo in repos]
        for future in as_completed(futures):
            results.append(future.result())
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: stopping every command the runner started")
        stop_everything()
        pool.shutdown(wait=True, cancel_futures=True)
        results = [f.result() for f in futures if f.done() and not f.cancelled() and f.exception() is None]
    finally:
        pool.shutdown(wait=True)
        if keep is None:
            shutil.rmtree(scratch_root, ignore_errors=True)
    results.sort(key=lambda r: r.name.lower())
    if not results:
        return 130

    table = markdown_table(results)
    print()
    print(table, end="", flush=True)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table, encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "corpus": str(corpus),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "seconds": round(time.time() - started, 1),
            "tools": {"shipyard": tools.shipyard, "promtool": tools.promtool,
                      "datacontract": tools._datacontract[0] if tools._datacontract else None},
            "steps": STEPS,
            "depends": DEPENDS,
            "repos": [r.as_dict() for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    if interrupted:
        return 130
    return 0 if all(r.all_passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
