"""Can a declared pin be installed on the project's Python? Asked of the package index; by rule offline.

The rule (documented in docs/inspection.md, "Requirement pins"): a pin such as ``==1.8.0``, ``~=0.24``
or ``<1.0`` is kept when the index has a release it admits that pip can install on CPython
``python_version`` in a Linux x86_64 container (glibc 2.36, the Debian 12 of the ``python:3.X-slim``
images):

- a wheel whose tags match (``cp311-cp311-manylinux_2_17_x86_64``, ``cp38-abi3-...``, ``py3-none-any``)
  and whose ``requires-python`` (when stated) admits that Python; or
- only an sdist, which declares a ``requires-python`` admitting that Python: an sdist without that
  metadata (a 2014 release) cannot be trusted to build on a current Python, and a release that ships
  binary wheels for other Pythons but none for this one needs a compiler and an old toolchain to build.

Yanked files do not count. Ranges that a current release satisfies are kept as declared. When the
index cannot be reached (or ``SHIPYARD_OFFLINE=1``), :data:`FIRST_WHEEL` decides instead: the first
release of well-known distributions with a wheel for each CPython; other pins are kept unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.tags import Tag
    from packaging.version import Version

    from ..index import IndexFile, IndexProject

#: The template's ``python_version`` default (``templates/production/copier.yml``).
DEFAULT_PYTHON = "3.11"
GLIBC_MINOR = 36  # manylinux_2_5 .. manylinux_2_36 wheels run in the container
_SDIST = (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")

# Distribution -> the first final release (in version order) that the rule above accepts for CPython
# 3.10, 3.11, 3.12, 3.13 (computed from PyPI's pages with judge_release in 2026). Offline, a pin that
# admits only older releases is dropped for that Python; a pin of another distribution is kept unchecked.
_FIRST_WHEEL_ROWS = {  # 3.10, 3.11, 3.12, 3.13
    "numpy": ("1.21.2", "1.23.2", "1.26.0", "2.1.0"),
    "pandas": ("1.3.3", "1.5.0", "2.1.1", "2.2.3"),
    "scipy": ("1.7.2", "1.9.2", "1.11.2", "1.14.1"),
    "scikit-learn": ("1.0.2", "1.1.3", "1.3.1", "1.5.2"),
    "matplotlib": ("3.5.0", "3.6.0", "3.7.3", "3.9.2"),
    "statsmodels": ("0.13.1", "0.13.3", "0.14.0", "0.14.3"),
    "catboost": ("1.0.1", "1.2", "1.2.3", "1.2.8"),
    "tensorflow": ("2.8.0", "2.12.0", "2.16.1", "2.20.0"),
    "torch": ("1.11.0", "1.13.0", "2.2.0", "2.5.0"),
    "torchvision": ("0.12.0", "0.15.1", "0.17.0", "0.21.0"),
    "scikit-image": ("0.19.0", "0.20.0", "0.22.0", "0.25.0"),
    "pillow": ("8.3.2", "9.2.0", "10.0.0", "10.4.0"),
    "opencv-python": ("3.4.16.57", "3.4.17.63", "3.4.17.63", "3.4.17.63"),
    "h5py": ("3.6.0", "3.8.0", "3.10.0", "3.12.1"),
    "numba": ("0.55.0", "0.57.0", "0.59.0", "0.61.0"),
    "pyarrow": ("6.0.0", "10.0.1", "14.0.0", "18.0.0"),
    "shap": ("0.41.0", "0.42.0", "0.45.0", "0.48.0"),
    "wordcloud": ("1.8.2.2", "1.9.2", "1.9.3", "1.9.4"),
    "pmdarima": ("1.8.5", "2.0.2", "2.0.4", "2.1.0"),
    "lxml": ("4.6.3", "4.9.1", "4.9.3", "5.3.0"),
    "tornado": ("6.2", "6.2", "6.2", "6.2"),
    "seaborn": ("0.9.0", "0.9.0", "0.9.0", "0.9.0"),
    "xgboost": ("0.72.1", "0.72.1", "0.72.1", "0.72.1"),
    "lightgbm": ("2.0.2", "2.0.2", "2.0.2", "2.0.2"),
    "keras": ("2.0.7", "2.0.7", "2.0.7", "2.0.7"),
    "gensim": ("0.8.8", "0.8.8", "0.8.8", "0.8.8"),
    "imbalanced-learn": ("0.3.0", "0.3.0", "0.3.0", "0.3.0"),
    "nltk": ("3.6", "3.6", "3.6", "3.6"),
    "plotly": ("3.1.1", "3.1.1", "3.1.1", "3.1.1"),
    "joblib": ("0.8.0", "0.8.0", "0.8.0", "0.8.0"),
}
FIRST_WHEEL: dict[str, dict[str, str]] = {
    name: dict(zip(("3.10", "3.11", "3.12", "3.13"), row, strict=True)) for name, row in _FIRST_WHEEL_ROWS.items()
}

# Distribution (normalised) -> first release considered current. Pins of distributions the template
# provides that only admit older ones give ``old-pin`` (results may differ with the template's version).
CURRENT_FROM: dict[str, tuple[int, ...]] = {
    "scikit-learn": (1, 0), "pandas": (1, 0), "numpy": (1, 20), "scipy": (1, 5), "matplotlib": (3, 0),
    "seaborn": (0, 11), "tensorflow": (2, 0), "keras": (2, 4), "torch": (1, 8), "xgboost": (1, 0),
    "lightgbm": (3, 0), "catboost": (1, 0), "statsmodels": (0, 12), "joblib": (1, 0),
    "scikit-image": (0, 18), "pillow": (8, 0), "plotly": (4, 0), "imbalanced-learn": (0, 8),
    "opencv-python": (4, 0), "nltk": (3, 5), "jupyter": (1, 0), "pyarrow": (10, 0), "pyyaml": (5, 1),
    "fastapi": (0, 100), "sqlalchemy": (1, 4), "mlflow": (2, 0),
}


@dataclass(frozen=True, kw_only=True)
class PinVerdict:
    keep: bool
    reason: str  # "1.26.4 has a wheel for CPython 3.11", "no such release on the index"
    by_rule: bool = False  # decided offline by FIRST_WHEEL (or kept unchecked) instead of by the index
    on_index: bool = True  # False: the index has no project of that name at all


def project_python(declared: str) -> str:
    """The Python the generated project runs on: a declared 3.10-3.13, else the template default."""
    return declared if re.fullmatch(r"3\.(1[0-3])", declared or "") else DEFAULT_PYTHON


def _version(text: str) -> Version | None:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


#: Libraries built on the template's pandas (>= 2), NumPy and matplotlib (>= 3.8): the first release that works
#: with them. An older pin installs, then fails at import or on the first call (seaborn 0.11 on matplotlib
#: 3.8+: no cm.register_cmap; 0.12 on pandas 3: no mode.use_inf_as_na).
STACK_FLOORS: dict[str, tuple[tuple[int, ...], str]] = {
    "seaborn": ((0, 13), "seaborn 0.13, the first release that works with pandas 2 and matplotlib 3.8"),
    "statsmodels": ((0, 14), "statsmodels 0.14, the first release that works with pandas 2"),
    "scipy": ((1, 13), "SciPy 1.13, the first release built for NumPy 2"),
    "pmdarima": ((2, 0), "pmdarima 2.0, the first release built for current NumPy and statsmodels"),
}


def below_stack_floor(distribution: str, specifier: str) -> str:
    """Why a pin cannot work with the template's libraries although it installs, "" when it can."""
    from .distributions import normalise

    floor = STACK_FLOORS.get(normalise(distribution))
    if not floor or not specifier or not _caps_below(specifier, ".".join(map(str, floor[0]))):
        return ""
    return f"it only allows releases older than {floor[1]}"


def is_ancient(distribution: str, specifier: str) -> bool:
    """True when ``specifier`` only allows versions older than what is current for a well-known package."""
    from .distributions import normalise

    floor = CURRENT_FROM.get(normalise(distribution))
    return bool(floor and specifier) and _caps_below(specifier, ".".join(map(str, floor)))


def _caps_below(specifier: str, floor_text: str) -> bool:
    """True when a clause of ``specifier`` admits no version at or after ``floor``."""
    from packaging.specifiers import InvalidSpecifier, Specifier

    floor = _version(floor_text)
    for clause in specifier.split(","):
        try:
            spec = Specifier(clause.strip())
        except InvalidSpecifier:
            continue
        if spec.operator not in ("==", "===", "~=", "<", "<=") or floor is None:
            continue
        if spec.contains(floor, prereleases=True):
            continue
        base = _version(spec.version.removesuffix(".*"))
        if spec.operator in ("<", "<=") or (base is not None and base < floor):
            return True
    return False


def _supported(python: str) -> frozenset[Tag]:
    from packaging import tags

    version = tuple(int(p) for p in python.split("."))
    plats = [f"manylinux_2_{m}_x86_64" for m in range(GLIBC_MINOR, 4, -1)]
    plats += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]
    abi = f"cp{version[0]}{version[1]}"
    return frozenset(tags.cpython_tags(version, abis=[abi], platforms=plats)) | frozenset(
        tags.compatible_tags(version, abi, plats))


def _admits(requires_python: str | None, python: str) -> bool | None:
    """Whether ``requires-python`` admits the newest patch release of ``python``; None when absent or invalid."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not requires_python or not requires_python.strip():
        return None
    try:
        return SpecifierSet(requires_python).contains(f"{python}.99", prereleases=True)
    except InvalidSpecifier:
        return None


def _split(project: IndexProject) -> dict[Version, list[tuple[IndexFile, frozenset[Tag] | None]]]:
    """Release -> its files, each with its wheel tags (None for an sdist)."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    from .distributions import normalise

    releases: dict[Version, list[tuple[IndexFile, frozenset[Tag] | None]]] = {}
    for f in project.files:
        low = f.filename.lower()
        if low.endswith(".whl"):
            try:
                _, version, _, wheel_tags = parse_wheel_filename(f.filename)
            except (InvalidWheelFilename, ValueError):
                continue
            releases.setdefault(version, []).append((f, frozenset(wheel_tags)))
            continue
        stem = next((f.filename[: -len(ext)] for ext in _SDIST if low.endswith(ext)), None)
        if stem is None:
            continue
        for i in (m.start() for m in re.finditer("-", stem)):
            parsed = _version(stem[i + 1:]) if normalise(stem[:i]) == project.name else None
            if parsed is not None:
                releases.setdefault(parsed, []).append((f, None))
                break
    return releases


def _interpreters(wheels: list[frozenset[Tag]]) -> str:
    names = sorted({t.interpreter for w in wheels for t in w}, key=lambda s: (len(s), s))
    if all(n.startswith(("py2", "cp2")) for n in names):
        return "only Python 2 wheels"
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    linux = any("linux" in t.platform or t.platform == "any" for w in wheels for t in w)
    return f"only for {shown}" + ("" if linux else " on Windows/macOS")


def judge_release(files: list[tuple[IndexFile, frozenset[Tag] | None]], python: str,
                  supported: frozenset[Tag]) -> tuple[bool, str]:
    """Whether pip installs one release on ``python`` in the container, and why: a phrase whose subject
    is the release ("has a wheel for CPython 3.11", "is yanked on the index")."""
    live = [(f, t) for f, t in files if not f.yanked]
    if not live:
        return False, "is yanked on the index"
    wheels = [(f, t) for f, t in live if t is not None]
    fits = [(f, t) for f, t in wheels if t & supported]
    if any(_admits(f.requires_python, python) is not False for f, _ in fits):
        return True, f"has a wheel for CPython {python}"
    if fits:
        return False, f"requires Python {fits[0][0].requires_python}"
    sdists = [f for f, t in live if t is None]
    binary = [t for _, t in wheels if any(tag.platform != "any" for tag in t)]
    py = f"has no wheel for CPython {python}"
    if not sdists:
        return False, f"{py} ({_interpreters([t for _, t in wheels])})" if wheels else "has no wheel or sdist"
    declared = [f for f in sdists if _admits(f.requires_python, python) is not None]
    admitting = [f for f in declared if _admits(f.requires_python, python)]
    if admitting and not binary:
        return True, f"has only an sdist, which declares Python {admitting[0].requires_python}"
    if admitting:
        return False, f"{py} ({_interpreters(binary)}) and its sdist needs compiling"
    if declared:
        return False, f"{py} and its sdist requires Python {declared[0].requires_python}"
    year = min((f.year for f in sdists if f.year), default=None)
    return False, f"{py} and the {f'{year} ' if year else ''}sdist declares no Python versions"


def verdict_from_index(project: IndexProject, specifier: str, python: str) -> PinVerdict:
    """Keep ``specifier`` when a release it admits installs on ``python`` (newest first)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not project.found:
        return PinVerdict(keep=False, reason=f"the index has no project named {project.name}", on_index=False)
    try:
        wanted = SpecifierSet(specifier)
    except InvalidSpecifier:
        return PinVerdict(keep=False, reason=f"{specifier} is not a valid version specifier")
    releases = _split(project)
    matching = sorted(wanted.filter(releases), reverse=True)
    if not matching:
        exact = re.fullmatch(r"===?[^*,]+", specifier) is not None
        return PinVerdict(keep=False, reason="no such release on the index" if exact
                          else f"no release on the index matches {specifier}")
    supported = _supported(python)
    newest: tuple[Version, str] | None = None
    for version in matching:
        ok, why = judge_release(releases[version], python, supported)
        if ok:
            return PinVerdict(keep=True, reason=f"{version} {why}")
        newest = newest or (version, why)
    assert newest is not None
    if len(matching) == 1:
        return PinVerdict(keep=False, reason=f"{newest[0]} {newest[1]}")
    return PinVerdict(keep=False, reason=f"none of the {len(matching)} releases matching {specifier} installs: "
                                         f"the newest, {newest[0]}, {newest[1]}")


def verdict_by_rule(distribution: str, specifier: str, python: str) -> PinVerdict:
    """Offline: drop a pin that admits only releases older than the first with a wheel for ``python``."""
    from .distributions import normalise

    first = FIRST_WHEEL.get(normalise(distribution), {}).get(python)
    if first is None:
        return PinVerdict(keep=True, reason=f"not checked, no rule covers {distribution}", by_rule=True)
    if _caps_below(specifier, first):
        return PinVerdict(keep=False, by_rule=True,
                          reason=f"the first {distribution} with a wheel for CPython {python} is {first}")
    return PinVerdict(keep=True, by_rule=True, reason=f"admits {first} or later, which has a wheel for CPython {python}")


def check_pins(pins: dict[str, tuple[str, str]], python: str) -> tuple[dict[str, PinVerdict], str, bool]:
    """Verdicts for ``{normalised name: (distribution, specifier)}``, the index asked (display form), and
    whether ``SHIPYARD_OFFLINE`` is set. A pin the index did not answer for is decided by rule (``by_rule``).
    """
    from ..index import display_url, index_url, offline, projects

    url = index_url()
    answered = projects(sorted(pins), url) if pins else {}
    out: dict[str, PinVerdict] = {}
    for key, (name, spec) in pins.items():
        project = answered.get(key)
        out[key] = verdict_from_index(project, spec, python) if project else verdict_by_rule(name, spec, python)
    return out, display_url(url), offline()
