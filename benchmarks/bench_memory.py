"""Peak memory of inspection on a notebook with 50 MB of embedded outputs, and of contract inference on a
1 GB CSV, in MB of resident memory (``VmHWM`` of a fresh child process).

Each measurement runs in its own Python process, next to a baseline process that imports the same
modules and does nothing else, so the report shows both the whole peak and what the work itself adds.

- Notebook: a repo with one training notebook whose 50 MB of base64 image outputs sit between its two
  code cells. Above 50 MiB a notebook is streamed without its outputs (``inspect/_slim.py``); the same
  notebook read whole (``json.loads`` of the file, the path below that size) is measured for comparison.
- CSV: a 1 GB file of four columns. Inference reads a sample: the first 200,000 rows
  (``datafiles.DEFAULT_MAX_ROWS``, read with pandas ``nrows``) after sniffing the first 256 KB; the contract
  then carries no row-count floor, since the rows seen are a sample.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from common import ROOT, BenchError, base_env

MB = 1024 * 1024
NOTEBOOK_OUTPUT_MB = 50
CSV_BYTES = 1024 * MB


def write_notebook(path: Path, output_mb: int) -> None:
    """A training notebook with ``output_mb`` MB of base64 image outputs, written in 1 MB pieces."""
    piece = ("iVBORw0KGgo" * (MB // 11 + 1))[:MB]
    head = {"cell_type": "code", "execution_count": 1, "metadata": {},
            "source": ["import pandas as pd\n", "df = pd.read_csv('data/train.csv')\n"]}
    tail = {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
            "source": ["from sklearn.linear_model import LogisticRegression\n",
                       "model = LogisticRegression().fit(df[['a', 'b']], df['label'])\n"]}
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"cells": [' + json.dumps(head)[:-1] + ', "outputs": [')
        for i in range(output_mb):
            out.write(("," if i else "") + '{"output_type": "display_data", "metadata": {}, '
                      '"data": {"image/png": "' + piece + '"}}')
        out.write("]}, " + json.dumps(tail) + '], "metadata": {"kernelspec": {"name": "python3"}}, '
                  '"nbformat": 4, "nbformat_minor": 5}')


def write_csv(path: Path, size: int) -> None:
    """About ``size`` bytes of CSV, written in 8 MB chunks of repeated rows."""
    rows = "".join(f"{i % 97},{(i * 7) % 13}.5,{'yes' if i % 3 else 'no'},{i % 2}\n" for i in range(100_000))
    chunk = (rows * (8 * MB // len(rows) + 1))[: 8 * MB]
    data = chunk[: chunk.rindex("\n") + 1].encode()
    with open(path, "wb") as out:
        out.write(b"a,b,c,label\n")
        written = 0
        while written < size:
            out.write(data)
            written += len(data)


_PEAK = """
import json as _json, re as _re
_status = open("/proc/self/status", encoding="ascii").read()  # VmHWM: this process's own peak (ru_maxrss
RESULT["peak_mb"] = int(_re.search(r"VmHWM:\\s+(\\d+) kB", _status).group(1)) / 1024  # keeps the parent's)
print(_json.dumps(RESULT))
"""


def child(code: str, *, timeout: float = 600) -> dict[str, Any]:
    """Run ``code`` (which sets RESULT) in a fresh Python; its RESULT with the process's peak RSS in MB."""
    script = textwrap.dedent(code) + _PEAK
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
                          env=base_env(), cwd=ROOT)
    if done.returncode != 0:
        raise BenchError(f"memory child failed ({done.returncode}): {done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"] = time.perf_counter() - start
    return result


_IMPORTS = """
import pandas
from pathlib import Path
import shipyard.inspect, shipyard.inspect.notebooks as notebooks
from shipyard.answers import derive
from shipyard.contracts import infer_contract
from shipyard.datafiles import load_table, sniff_options
"""


def _notebook(root: Path, *, whole: bool) -> dict[str, Any]:
    force = "notebooks.LARGE_NOTEBOOK_BYTES = 1 << 62\n" if whole else ""
    return child(_IMPORTS + force + f"""
from shipyard.inspect import inspect_repo
facts = inspect_repo(Path({str(root)!r}))
RESULT = {{"model": facts.model.variable if facts.model else None,
           "large": [f.code for f in facts.findings if f.code == "notebook-large"]}}
""")


def _csv(path: Path) -> dict[str, Any]:
    return child(_IMPORTS + f"""
path = Path({str(path)!r})
options, _ = sniff_options(path)
frame = load_table(path, options)
contract = infer_contract(frame, dataset_name="big", data_path="big.csv", owner_email="a@example.org",
                          target_column="label", read_options=options)
RESULT = {{"rows": len(frame), "truncated": bool(frame.attrs["truncated"]),
           "columns": len(contract["schema"][0]["properties"])}}
""")


def run(output_mb: int = NOTEBOOK_OUTPUT_MB, csv_bytes: int = CSV_BYTES) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-memory-") as tmp_text:
        tmp = Path(tmp_text)
        stat = os.statvfs(tmp)
        if stat.f_bavail * stat.f_frsize < csv_bytes + output_mb * MB + 512 * MB:
            raise BenchError(f"needs {(csv_bytes + output_mb * MB) / 2**30:.1f} GB free in {tmp}")
        repo = tmp / "repo"
        (repo / "data").mkdir(parents=True)
        (repo / "data" / "train.csv").write_text("a,b,label\n1,2,0\n3,4,1\n5,6,0\n", encoding="utf-8")
        write_notebook(repo / "train.ipynb", output_mb)
        baseline = child(_IMPORTS + "RESULT = {}\n")
        streamed = _notebook(repo, whole=False)
        whole = _notebook(repo, whole=True)
        if streamed["model"] != "model" or not streamed["large"]:
            raise BenchError(f"inspection missed the notebook's code: {streamed}")
        notebook_size = (repo / "train.ipynb").stat().st_size
        big = tmp / "big.csv"
        write_csv(big, csv_bytes)
        csv_size = big.stat().st_size
        contract = _csv(big)
    return {
        "baseline_mb": baseline["peak_mb"],
        "notebook": {"file_mb": notebook_size / MB, "outputs_mb": output_mb, "peak_mb": streamed["peak_mb"],
                     "added_mb": streamed["peak_mb"] - baseline["peak_mb"], "seconds": streamed["seconds"],
                     "whole_read_peak_mb": whole["peak_mb"], "whole_read_seconds": whole["seconds"]},
        "csv": {"file_mb": csv_size / MB, "peak_mb": contract["peak_mb"],
                "added_mb": contract["peak_mb"] - baseline["peak_mb"], "seconds": contract["seconds"],
                "sample_rows": contract["rows"], "truncated": contract["truncated"]},
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
