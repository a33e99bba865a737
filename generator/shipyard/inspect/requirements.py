"""Declared dependencies: ``requirements*.txt``, conda ``environment.yml``, ``pyproject.toml``, runtime files.

Only reads; every problem is a finding. The first file that declares a distribution wins, in this
order: pyproject.toml, requirements.txt, other requirements files, environment.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..facts import Evidence, Finding, Requirement, Severity
from .distributions import conda_to_pypi, declared_distribution, normalise

_REQ_LINE = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*\(?\s*((?:[<>=!~]=?|===)[^;#()]*)?\)?\s*(;.*)?$"
)
_EGG = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_SKIP_FILE = re.compile(r"(dev|test|doc|lint|ci)", re.I)
_MAX_BYTES = 1_000_000


@dataclass
class Declared:
    requirements: dict[str, Requirement] = field(default_factory=dict)  # normalised name -> requirement
    python_version: str = ""
    python_source: str = ""
    findings: list[Finding] = field(default_factory=list)

    def add(self, name: str, specifier: str, source: str) -> None:
        """Record a declared distribution; an alias (``sklearn``) is recorded as the real one."""
        real = declared_distribution(name)
        key = normalise(real)
        if key and key not in self.requirements:
            self.requirements[key] = Requirement(distribution=real, specifier=specifier, source=source,
                                                 declared_as=name if real != name else "")

    def set_python(self, version: str, source: str) -> None:
        match = re.search(r"(\d+(?:\.\d+){0,2})", version)
        if match and not self.python_version:
            self.python_version = match.group(1)
            self.python_source = source


def _read(root: Path, rel: str, declared: Declared) -> str | None:
    path = root / rel
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        raw = path.read_bytes()
    except OSError as exc:
        declared.findings.append(
            Finding(
                code="requirements-unreadable",
                severity=Severity.WARNING,
                evidence=Evidence(path=rel),
                message=f"{rel} cannot be read ({exc.strerror}); its pins are ignored",
            )
        )
        return None
    if raw[:2] not in (b"\xff\xfe", b"\xfe\xff") and b"\x00" in raw[:200]:  # UTF-16 without a BOM
        try:
            return raw.decode("utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("latin-1")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def parse_requirement(line: str) -> tuple[str, str] | None:
    """``"scikit-learn[alldeps] == 0.19.1 ; python_version<'3'"`` -> ("scikit-learn", "==0.19.1")."""
    line = line.strip()
    egg = _EGG.search(line)
    if egg:
        return egg.group(1), ""
    if "://" in line or line.startswith(("-", ".", "/")):
        return None
    match = _REQ_LINE.match(line)
    if not match:
        return None
    spec = re.sub(r"\s+", "", match.group(3) or "")
    return match.group(1), spec


def parse_requirements_txt(root: Path, rel: str, declared: Declared, seen: set[str] | None = None) -> None:
    seen = set() if seen is None else seen
    if rel in seen or len(seen) > 20:
        return
    seen.add(rel)
    text = _read(root, rel, declared)
    if text is None:
        return
    base = rel.rsplit("/", 1)[0] if "/" in rel else ""
    for raw_line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw_line).strip()
        if not line:
            continue
        include = re.match(r"^(-r|--requirement)\s*=?\s*(\S+)", line)
        if include:
            target = f"{base}/{include.group(2)}" if base else include.group(2)
            target = str(Path(target).as_posix())
            if ".." not in Path(target).parts and not Path(target).is_absolute():
                parse_requirements_txt(root, target, declared, seen)
            continue
        parsed = parse_requirement(line)
        if parsed:
            declared.add(parsed[0], parsed[1], rel)


def _conda_spec(item: str) -> tuple[str, str] | None:
    match = re.match(r"^\s*(?:[\w.-]+::)?([A-Za-z0-9_.-]+)\s*(.*)$", item)
    if not match:
        return None
    name, rest = match.group(1), match.group(2).strip()
    if not rest:
        return name, ""
    if rest.startswith("=") and not rest.startswith("=="):
        version = rest[1:].split("=")[0].strip()
        return name, f"=={version}" if version.count(".") >= 2 or "*" in version else f"=={version}.*"
    if re.match(r"^\d", rest):
        version = rest.split()[0].split("=")[0]
        return name, f"=={version}"
    op = re.match(r"^(?:==|>=|<=|!=|~=|>|<)\s*[^\s=,]+(?:\s*,\s*(?:==|>=|<=|!=|~=|>|<)\s*[^\s=,]+)*", rest)
    return name, re.sub(r"\s+", "", op.group(0)) if op else ""


def parse_environment_yml(root: Path, rel: str, declared: Declared) -> None:
    text = _read(root, rel, declared)
    if text is None:
        return
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        declared.findings.append(
            Finding(
                code="requirements-unreadable",
                severity=Severity.WARNING,
                evidence=Evidence(path=rel),
                message=f"{rel} is not valid YAML ({str(exc).splitlines()[0]}); its pins are ignored",
            )
        )
        return
    deps = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(deps, list):
        return
    for item in deps:
        if isinstance(item, dict):
            for pip_item in item.get("pip") or []:
                parsed = parse_requirement(str(pip_item))
                if parsed:
                    declared.add(parsed[0], parsed[1], rel)
            continue
        spec = _conda_spec(str(item))
        if spec is None:
            continue
        name, specifier = spec
        if name.lower() == "python":
            declared.set_python(specifier or "", rel)
            continue
        pypi = conda_to_pypi(name)
        if pypi:
            declared.add(pypi, specifier, rel)


def parse_pyproject(root: Path, rel: str, declared: Declared) -> None:
    text = _read(root, rel, declared)
    if text is None:
        return
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        declared.findings.append(
            Finding(
                code="requirements-unreadable",
                severity=Severity.WARNING,
                evidence=Evidence(path=rel),
                message=f"{rel} is not valid TOML ({exc}); its dependencies are ignored",
            )
        )
        return
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    for dep in project.get("dependencies") or []:
        parsed = parse_requirement(str(dep))
        if parsed:
            declared.add(parsed[0], parsed[1], rel)
    if isinstance(project.get("requires-python"), str):
        declared.set_python(project["requires-python"], rel)
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
    if isinstance(poetry, dict):
        for name, spec in poetry.items():
            version = (
                spec if isinstance(spec, str) else (spec.get("version", "") if isinstance(spec, dict) else "")
            )
            version = "" if version in ("*", "") else re.sub(r"^[\^~](?!=)", ">=", version)
            if name.lower() == "python":
                declared.set_python(version, rel)
            else:
                declared.add(name, version.replace(" ", ""), rel)


def declared_requirements(root: Path, files: list[str]) -> Declared:
    """Everything the repo declares, from the root (and ``binder/``, ``requirements/``) files."""
    declared = Declared()
    present = set(files)
    if "pyproject.toml" in present:
        parse_pyproject(root, "pyproject.toml", declared)
    txt = [
        f
        for f in files
        if re.fullmatch(r"(binder/|requirements/)?requirements[\w.-]*\.txt", f)
        or re.fullmatch(r"requirements/[\w.-]+\.txt", f)
    ]
    txt.sort(key=lambda f: (f != "requirements.txt", bool(_SKIP_FILE.search(f)), f))
    for rel in txt:
        if rel == "requirements.txt" or not _SKIP_FILE.search(rel.rsplit("/", 1)[-1]):
            parse_requirements_txt(root, rel, declared)
    for rel in ("environment.yml", "environment.yaml", "binder/environment.yml", "conda.yml", "conda.yaml"):
        if rel in present:
            parse_environment_yml(root, rel, declared)
    for rel in ("runtime.txt", ".python-version", "binder/runtime.txt"):
        if (root / rel).is_file():
            text = _read(root, rel, declared)
            if text:
                declared.set_python(text.strip().splitlines()[0] if text.strip() else "", rel)
    return declared
