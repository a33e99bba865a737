"""What the generated project depends on: imports of the code it runs, with the declared pins that install.

A distribution is a project dependency (``Requirement.used``) when the training notebook or a module of
the repo it imports (transitively) imports it, or calls that need it (``read_excel`` -> openpyxl).
Imports of other notebooks, optional imports (only inside ``try: ... except ImportError``) and
distributions only declared in requirements files are reported, not installed. A declared pin of a
dependency is checked (:mod:`.pins`): kept when it installs on the project's Python, else dropped to
the bare name, with the reason. Distributions the template provides (pandas, scikit-learn, ...) and
notebook-only ones (jupyter, ...) are never written into the project, so their pins are not checked;
an ancient pin of one gives ``old-pin``.
"""

from __future__ import annotations

from ..facts import Evidence, Finding, Requirement, Severity
from .distributions import normalise
from .imports import ImportScan, project_files
from .requirements import Declared


def _provided() -> frozenset[str]:
    from ..answers import NOT_RUNTIME, TEMPLATE_DEPENDENCIES

    return frozenset(normalise(n) for n in TEMPLATE_DEPENDENCIES | NOT_RUNTIME)


def build_requirements(scan: ImportScan, declared: Declared, *, notebook: str | None = None,
                       python_version: str = "") -> tuple[list[Requirement], list[Finding]]:
    """Distributions imported anywhere, then declared-only ones; ``used`` marks what ``notebook`` runs.

    Without a training notebook, every notebook counts as run. ``python_version`` is the declared one
    (the project's Python is derived from it as the answers do).
    """
    from .pins import below_stack_floor, check_pins, is_ancient, project_python

    runs = project_files(scan, notebook) if notebook else None
    modules: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    used: set[str] = set()
    optional: set[str] = set()  # imported by the code the project runs only inside try/except ImportError
    for imp in scan.imports:
        if imp.kind == "third-party" and imp.distribution and imp.module not in scan.typos:
            key = normalise(imp.distribution)
            names.setdefault(key, imp.distribution)
            if imp.module not in modules.setdefault(key, []):
                modules[key].append(imp.module)
            if runs is None or imp.evidence.path in runs:
                (optional if (imp.module, imp.evidence.path) in scan.optional else used).add(key)
    for (dist, path), _reason in scan.implied.items():
        names.setdefault(normalise(dist), dist)
        modules.setdefault(normalise(dist), [])
        if runs is None or path in runs:
            used.add(normalise(dist))
    for key, decl in declared.requirements.items():
        names.setdefault(key, decl.distribution)
        modules.setdefault(key, [])
    installed: dict[str, tuple[str, str]] = {}
    for (key, path), spec in scan.installed_in_notebook.items():
        if runs is None or path in runs:
            installed.setdefault(key, (spec, path))

    python = project_python(python_version)
    provided = _provided()
    specs: dict[str, tuple[str, str]] = {}
    for key in names:
        decl = declared.requirements.get(key)
        specs[key] = (decl.specifier, decl.source) if decl else installed.get(key, ("", ""))
    checked = {key: (names[key], spec) for key, (spec, _) in specs.items()
               if spec and key in used and key not in provided}
    verdicts, index, offline = check_pins(checked, python)

    findings: list[Finding] = []
    out: list[Requirement] = []
    for key, name in names.items():
        decl = declared.requirements.get(key)
        spec, source = specs[key]
        distribution = decl.distribution if decl else name
        declared_as = decl.declared_as if decl else ""
        shown = f"{declared_as or distribution}{spec}"
        evidence = Evidence(path=source) if source else None
        dropped, reason, by_rule, on_index = False, "", False, True
        stack = below_stack_floor(distribution, spec) if key in verdicts and verdicts[key].keep else ""
        if stack:
            dropped, reason = True, stack
            findings.append(Finding(
                code="pin-dropped", severity=Severity.WARNING, evidence=evidence,
                message=f"{source} pins {shown}, which installs but does not work with the template's pandas, "
                        f"NumPy and matplotlib: {stack}; the project asks for {distribution} (check the results "
                        "still match)"))
        elif key in verdicts:
            verdict = verdicts[key]
            dropped, reason, by_rule, on_index = not verdict.keep, verdict.reason, verdict.by_rule, verdict.on_index
            if not on_index:
                findings.append(Finding(
                    code="not-on-index", severity=Severity.WARNING, evidence=evidence,
                    message=f"{source} pins {shown} and the training code imports it, but {reason} ({index}): "
                            "it is not written into pyproject.toml; install it from where it comes from (for a "
                            "private index, set SHIPYARD_INDEX_URL or PIP_INDEX_URL and adopt again)"))
            elif dropped:
                findings.append(Finding(
                    code="pin-dropped", severity=Severity.WARNING, evidence=evidence,
                    message=f"{source} pins {shown}, which cannot be installed on Python {python}: {reason}"
                            f"{' (offline rule)' if by_rule else ''}; the project asks for {distribution} "
                            "(check the results still match)"))
        elif key in used and key in provided and is_ancient(distribution, spec):
            dropped, reason = True, "years old; the template's current version is used"
            findings.append(Finding(
                code="old-pin", severity=Severity.WARNING, evidence=evidence,
                message=f"{source} pins {shown}, which is years old; the generated project uses the "
                        f"template's current {distribution} instead (check the results still match)"))
        out.append(Requirement(distribution=distribution, specifier=spec, source=source,
                               modules=tuple(modules.get(key, ())), used=key in used,
                               optional=key in optional and key not in used, pin_dropped=dropped,
                               pin_reason=reason, pin_by_rule=by_rule, on_index=on_index,
                               declared_as=declared_as))
    ruled = [r for r in out if r.pin_by_rule]
    if ruled:
        why = "SHIPYARD_OFFLINE is set" if offline else f"the package index {index} could not be reached"
        listed = ", ".join(f"{r.declared()} {'dropped' if r.pin_dropped else 'kept'}" for r in ruled)
        findings.append(Finding(
            code="pins-checked-offline", severity=Severity.INFO,
            message=f"{why}: pins checked offline by rule, not against the index ({listed}); adopt again "
                    "with the index reachable to check them"))
    return out, findings
