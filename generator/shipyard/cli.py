"""Thin command-line layer: parse, call the library, print. Heavy imports stay inside commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import __version__

if TYPE_CHECKING:
    from .adopt import AdoptResult, Prepared

app = typer.Typer(
    name="shipyard",
    help=(
        "Turn a notebook-stage ML repo into a production project: package, container, CI/CD, "
        "MLflow registry flow, data contract, monitoring, ownership.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  shipyard adopt .                   # inspect, preview, confirm, write\n"
        "  shipyard adopt . --dry-run --diff  # preview every file, write nothing\n"
        "  shipyard adopt . --yes --json      # no prompts, one JSON report\n"
        "  shipyard adopt . --target churned --owner ana@corp.com\n"
        "  shipyard update --dry-run          # preview a newer template, 3-way\n"
        "  shipyard new churn-model           # a fresh project, no notebook yet\n"
        "  shipyard fleet status --from projects.txt\n"
        "  shipyard template check ../company-template\n"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shipyard {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                   help="Print the version and exit.")] = None,
) -> None:
    """Shipyard command line."""


@contextmanager
def _reported(as_json: bool, *, left: str = "nothing was written") -> Iterator[None]:
    """Every error of a command as one line (and a JSON object with --json), with its exit code; an error
    that is not ours (a bug) exits 70."""
    from .errors import InternalError, ShipyardError

    try:
        yield
    except ShipyardError as exc:
        _fail(exc, as_json)
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug of ours: still one line, a JSON object, and a distinct exit code
        _fail(InternalError(f"unexpected {type(exc).__name__}: {str(exc)[:300]}",
                            hint=f"{left}; please report this with the command you ran"), as_json)


def _fail(exc: Exception, as_json: bool) -> None:
    from .errors import ShipyardError

    if isinstance(exc, ShipyardError):
        if as_json:
            typer.echo(json.dumps({"error": exc.message, "hint": exc.hint, "path": exc.path,
                                   "type": type(exc).__name__}))
        typer.echo(f"error: {exc.one_line()}", err=True)
        raise typer.Exit(exc.exit_code)
    raise exc


@app.command(epilog="Exit codes: 0 done (or nothing to do), 1 declined at the prompt, 2 bad usage, "
                    "3 not a git repo / dirty tree, 4 unreadable input, 5 unsafe path, 6 template error, "
                    "7 untrusted template, 8 write failed (rolled back), 70 internal error (a bug: please report it).")
def adopt(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The notebook repo (a git work tree).")] = Path("."),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; write nothing.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show the diff of every file that would change.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="No prompts: inferred answers and defaults.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report on stdout.")] = False,
    notebook: Annotated[str | None, typer.Option(
        "--notebook", metavar="FILE", help="Training notebook (repo-relative).")] = None,
    data: Annotated[str | None, typer.Option("--data", metavar="FILE", help="Training data file (repo-relative).")] = None,
    target: Annotated[str | None, typer.Option("--target", metavar="COLUMN", help="Target column.")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", metavar="VARIABLE", help="Variable holding the model, when the last one fitted is not it.")] = None,
    name: Annotated[str | None, typer.Option(
        "--name", metavar="NAME", help="Project name (the package name derives from it).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", metavar="EMAIL", help="Technical owner's e-mail.")] = None,
    template: Annotated[str | None, typer.Option(
        "--template", metavar="SOURCE", help="Template: 'production' (built in), a folder, or a git URL[@ref].")] = None,
    allow_dirty: Annotated[bool, typer.Option(
        "--allow-dirty", help="Run on a tree with uncommitted changes, or on a folder that is not under git.")] = False,
    force: Annotated[list[str] | None, typer.Option(
        "--force", metavar="PATH", help="Overwrite this conflicting file (a backup is kept). Repeatable.")] = None,
    trust: Annotated[bool, typer.Option("--trust", help="Allow a third-party template to run tasks.")] = False,
    values: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="Answer any template question (ci_provider=both, ...). Repeatable.")] = None,
) -> None:
    """Put a production skeleton around the notebooks in PATH. Nothing of yours is overwritten or lost."""
    from .adopt import AdoptOptions, execute, prepare
    from .errors import UsageError

    with _reported(as_json):
        opts = AdoptOptions(path=path, notebook=notebook, data=data, target=target, model=model, name=name,
                            owner=owner, template=template, allow_dirty=allow_dirty, force=tuple(force or ()),
                            trust=trust, dry_run=dry_run, values=_pairs(values))
        prepared = prepare(opts)
        if not as_json:
            _print_preview(prepared, diff=diff)
        if dry_run or prepared.plan.changes_nothing:
            result = execute(prepared, dry_run=dry_run)
        else:
            if not yes:
                if as_json or not sys.stdin.isatty():
                    raise UsageError("adopt writes files and needs a confirmation, but cannot ask here",
                                     hint="pass --yes to write, or --dry-run to preview")
                if not typer.confirm(f"Write {len(prepared.plan.writes())} files into {prepared.root}?"):
                    typer.echo("Nothing written.", err=True)
                    raise typer.Exit(1)
            result = execute(prepared)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        _print_outcome(result)


def _pairs(values: list[str] | None) -> dict[str, str]:
    from .errors import UsageError

    pairs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item}: expected KEY=VALUE", hint="for example --set ci_provider=gitlab")
        pairs[key.strip()] = value
    return pairs


def _print_preview(p: Prepared, *, diff: bool) -> None:
    from .plan import Action

    f = p.facts
    out = typer.echo
    out(f"Adopting {p.root} as package '{p.answers['package_name']}' "
        f"(template {p.source.display()} {p.template_version})")
    for label, choice in (("notebook", f.training_notebook), ("data", f.data_file), ("target", f.target)):
        out(f"  {label:9} {choice.value if choice else '(none found)'}"
            + (f"  [{choice.reason}; override with {choice.flag}]" if choice else ""))
    if f.model:
        out(f"  {'model':9} {f.model.variable} = {f.model.class_name or '?'} ({f.model.framework}), "
            f"{f.model.evidence.where()}")
    else:
        out(f"  {'model':9} (none trained; `train --baseline` will carry the project)")
    counts = {a: len(v) for a, v in p.plan.by_action().items()}
    out(f"Plan: {counts['create']} to create, {counts['overwrite']} to overwrite, {counts['identical']} "
        f"identical, {counts['conflict']} conflict(s), {counts['skip']} skipped")
    for op in p.plan.ops:
        if op.action is not Action.IDENTICAL:
            out(f"  {op.action.value:9} {op.path}" + (f"  ({op.reason})" if op.reason else ""))
        if diff and op.action in (Action.CONFLICT, Action.OVERWRITE):
            out(op.diff(p.root))
        elif diff and op.action is Action.CREATE:
            text = op.content.decode("utf-8", "replace").splitlines()
            out(f"--- /dev/null\n+++ b/{op.path}\n" + "\n".join(f"+{line}" for line in text[:400]))
        elif op.action is Action.CONFLICT:
            short = op.diff(p.root, max_lines=30)
            out("\n".join("      " + line for line in short.splitlines()))
    attention = [x for x in p.findings if x.severity.value != "info"]
    if attention:
        out(f"Needs attention ({len(attention)}):")
        for x in attention:
            where = f" [{x.evidence.where()}]" if x.evidence else ""
            out(f"  {x.severity.value:7} {x.code}{where}: {x.message}")


def _print_outcome(result: AdoptResult) -> None:
    p = result.prepared
    conflicts = len(p.plan.conflicts())
    if p.plan.changes_nothing and conflicts:
        typer.echo(f"Nothing to write: everything else is in place; {conflicts} conflict(s) listed above stay yours.")
    elif p.plan.changes_nothing:
        typer.echo("Nothing to do: the repo already holds everything adopt would write.")
    elif result.dry_run:
        typer.echo("Dry run: nothing was written.")
    else:
        typer.echo(f"Wrote {len(result.applied.written) if result.applied else 0} files. "
                   "Read ADOPTION.md, then: git add -A && git commit -m 'Adopt with shipyard'")
        for backup in result.backups:
            typer.echo(f"  backup of your file: {backup}")


@app.command(epilog="Exit codes: 0 updated (or already current), 1 declined at the prompt, 2 bad usage, "
                    "3 not a git repo / dirty tree, 4 not a generated project, 5 unsafe path, 6 template error, "
                    "7 untrusted template, 8 write failed (rolled back), 9 applied with conflicts to resolve, "
                    "70 internal error.")
def update(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The generated project (a git work tree).")] = Path("."),
    to: Annotated[str | None, typer.Option(
        "--to", metavar="REF", help="Template version (tag, branch or commit); default: the latest tag.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what each file would become; write nothing.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show the diff of every file that would change.")] = False,
    conflict: Annotated[str, typer.Option(
        "--conflict", metavar="inline|rej",
        help="Conflicts as git-style markers in the file (inline), or your file kept and <file>.rej beside it.")] = "inline",
    values: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="Change a recorded template answer. Repeatable.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="No prompt.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report on stdout.")] = False,
    allow_dirty: Annotated[bool, typer.Option("--allow-dirty", help="Run on a tree with uncommitted changes.")] = False,
    trust: Annotated[bool, typer.Option("--trust", help="Allow a third-party template to run tasks.")] = False,
) -> None:
    """Take a newer template version into a generated project: a 3-way merge that keeps your edits."""
    from .errors import UsageError
    from .update import UpdateOptions, execute, prepare

    with _reported(as_json):
        opts = UpdateOptions(path=path, to=to, conflict=conflict, values=_pairs(values), allow_dirty=allow_dirty,
                             trust=trust, dry_run=dry_run)
        prepared = prepare(opts)
        if not as_json:
            _print_update(prepared, diff=diff)
        if not dry_run and prepared.plan.writes() and not yes:
            if as_json or not sys.stdin.isatty():
                raise UsageError("update writes files and needs a confirmation, but cannot ask here",
                                 hint="pass --yes to write, or --dry-run to preview")
            if not typer.confirm(f"Apply {len(prepared.plan.writes())} change(s) to {prepared.root}?"):
                typer.echo("Nothing written.", err=True)
                raise typer.Exit(1)
        result = execute(prepared, dry_run=dry_run)
    conflicts = [str(c.path) for c in prepared.conflicts()]
    if result.warning and not as_json:
        typer.echo(f"warning: {result.warning}", err=True)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
    elif dry_run:
        typer.echo("Dry run: nothing was written.")
    elif not prepared.plan.writes():
        typer.echo(f"Up to date: template {prepared.source.display()} {prepared.to_version}; nothing to change.")
    else:
        typer.echo(f"Updated to template {prepared.to_version}: {len(prepared.plan.writes())} change(s). "
                   "Review with git diff, then commit.")
    if conflicts and not dry_run:
        where = "markers in the file" if conflict == "inline" else "your file kept, the template's change in .rej"
        typer.echo(f"{len(conflicts)} conflict(s) to resolve ({where}): {', '.join(conflicts)}", err=True)
        raise typer.Exit(9)


def _print_update(p, *, diff: bool) -> None:  # noqa: ANN001 - UpdatePrepared, imported lazily
    out = typer.echo
    same = p.from_version == p.to_version
    out(f"Updating {p.root}: template {p.source.display()} {p.from_version or '?'} -> {p.to_version or '?'}"
        + (" (same version)" if same else "") + f"; base {p.base_from}")
    counts = p.counts()
    out("Plan: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
    for change in p.changes:
        if change.kind == "unchanged":
            continue
        out(f"  {change.kind:15} {change.path}" + (f"  ({change.reason})" if change.reason else ""))
        if diff:
            text = p.diff(change)
            if text:
                out(text.rstrip("\n"))


@app.command(epilog="Exit codes: 0 created, 2 bad usage (the folder exists and is not empty), 6 template error, "
                    "7 untrusted template, "
                    "8 write failed (nothing left behind).")
def new(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Project name; the folder ./NAME is created.")],
    template: Annotated[str | None, typer.Option(
        "--template", metavar="SOURCE", help="Template: 'production' (built in), a folder, or a git URL[@ref].")] = None,
    path: Annotated[Path | None, typer.Option("--path", metavar="DIR", help="Create the project here instead.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", metavar="EMAIL", help="Technical owner's e-mail.")] = None,
    values: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="Answer any template question. Repeatable.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report on stdout.")] = False,
    trust: Annotated[bool, typer.Option("--trust", help="Allow a third-party template to run tasks.")] = False,
) -> None:
    """Start a fresh project from a template, for a team that has no notebook yet: a git repository with
    the template's files, committed, ready for `shipyard update` later."""
    from .new import NewOptions
    from .new import new as create

    with _reported(as_json, left="nothing was left behind"):
        result = create(NewOptions(name=name, path=path, template=template, owner=owner, values=_pairs(values),
                                   trust=trust))
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    typer.echo(f"Created {result.root} from template {result.template} {result.version}: "
               f"{len(result.files)} files" + (", committed." if result.committed else
                                                "; commit them: git add -A && git commit -m 'New project'"))


fleet_app = typer.Typer(help="Many generated projects at once: where each stands, and updating each on a branch.",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(fleet_app, name="fleet")


def _fleet_paths(paths: list[Path] | None, from_file: Path | None) -> list[Path]:
    from .errors import UsageError
    from .fleet import read_list

    out = list(paths or [])
    if from_file is not None:
        out += read_list(from_file)
    if not out:
        raise UsageError("no projects given", hint="give project folders, or --from FILE with one per line")
    return out


@fleet_app.command("status", epilog="Exit codes: 0 shown, 2 bad usage, 4 unreadable --from file.")
def fleet_status(
    paths: Annotated[list[Path] | None, typer.Argument(metavar="PATH...", help="Generated projects.")] = None,
    from_file: Annotated[Path | None, typer.Option("--from", metavar="FILE",
                                                   help="A file with one project path per line.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report on stdout.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Projects read in parallel.")] = 8,
    no_readiness: Annotated[bool, typer.Option("--no-readiness",
                                               help="Skip the shipyard doctor scores (faster).")] = False,
) -> None:
    """A table of each project's template, recorded and latest version, locally modified template files,
    pending conflicts and readiness (shipyard doctor: ML Test Score, governance and delivery)."""
    from .checks.scoring import shown
    from .fleet import status

    with _reported(as_json):
        rows = status(_fleet_paths(paths, from_file), jobs=jobs, readiness=not no_readiness)
    if as_json:
        typer.echo(json.dumps({"projects": [r.to_json() for r in rows]}, ensure_ascii=False))
        return
    header = ("project", "template", "version", "latest", "modified", "conflicts")
    if not no_readiness:
        header += ("ml-test-score", "governance", "delivery")

    def scores(r) -> tuple[str, ...]:  # noqa: ANN001 - ProjectStatus, imported lazily
        if no_readiness:
            return ()
        if r.readiness is None:
            return ("?", "?", "?")
        pct = [r.readiness.get(k) for k in ("governance", "delivery")]
        return (shown(r.readiness.get("ml_test_score")), *("-" if v is None else f"{v:g}%" for v in pct))

    table = [header] + [(r.path, r.template or "-", r.version or "-",
                         (r.latest or "?") + (" (behind)" if r.behind else ""),
                         str(len(r.modified)), ", ".join(r.conflicts) or ("-" if not r.error else r.error),
                         *scores(r))
                        for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    behind = sum(r.behind for r in rows)
    typer.echo(f"{len(rows)} project(s): {behind} behind their template's latest version, "
               f"{sum(bool(r.conflicts) for r in rows)} with conflicts to resolve, {sum(bool(r.error) for r in rows)} "
               "unreadable.")


@fleet_app.command("update", epilog="Exit codes: 0 all applied or up to date, 9 some have conflicts for a human, "
                                    "10 some failed, 2 bad usage.")
def fleet_update(
    paths: Annotated[list[Path] | None, typer.Argument(metavar="PATH...", help="Generated projects.")] = None,
    from_file: Annotated[Path | None, typer.Option("--from", metavar="FILE",
                                                   help="A file with one project path per line.")] = None,
    to: Annotated[str | None, typer.Option("--to", metavar="REF", help="Template version; default: latest.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Projects updated in parallel.")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report on stdout.")] = False,
    trust: Annotated[bool, typer.Option("--trust", help="Allow a third-party template to run tasks.")] = False,
) -> None:
    """Update each project on a new branch shipyard/update-<version> (never your current branch), in
    parallel, and report which applied, which have conflicts for a human, and which failed and why."""
    from .fleet import update_all

    def progress(p, outcome) -> None:  # noqa: ANN001
        typer.echo(f"[{p.done}/{p.total}] {outcome.result:10} {outcome.path}"
                   + (f"  ({outcome.reason})" if outcome.reason else ""), err=True)

    with _reported(as_json):
        outcomes = update_all(_fleet_paths(paths, from_file), to=to, jobs=jobs, trust=trust, on_done=progress)
    if as_json:
        typer.echo(json.dumps({"projects": [o.to_json() for o in outcomes]}, ensure_ascii=False))
    else:
        for o in outcomes:
            extra = f" on {o.branch}" if o.branch and o.result in ("applied", "conflicts") else ""
            detail = f": {', '.join(o.conflicts)}" if o.conflicts else (f": {o.reason}" if o.reason else "")
            typer.echo(f"{o.result:10} {o.path}{extra}{detail}")
    if any(o.result == "failed" for o in outcomes):
        raise typer.Exit(10)
    if any(o.result == "conflicts" for o in outcomes):
        raise typer.Exit(9)


template_app = typer.Typer(help="Templates: list the ones known here, check one before releasing it.",
                           no_args_is_help=True, rich_markup_mode=None)
app.add_typer(template_app, name="template")


@template_app.command("list")
def template_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report on stdout.")] = False,
) -> None:
    """The built-in templates and those named in the config ([tool.shipyard.templates] of pyproject.toml,
    or the user config file), which one is the default, and which sources are trusted."""
    from .config import load, user_config_path
    from .render import BUILTIN_TEMPLATES, parse_source

    with _reported(as_json):
        config = load()
        default = config.default_template or "production"
        rows = [{"name": name, "source": "built in", "default": name == default, "trusted": True}
                for name in BUILTIN_TEMPLATES]
        for name, spec in sorted(config.templates.items()):
            rows.append({"name": name, "source": spec, "default": name == default,
                         "trusted": parse_source(spec).trusted})
    if as_json:
        typer.echo(json.dumps({"templates": rows, "trusted_prefixes": list(config.trusted),
                               "config_files": list(config.sources)}, ensure_ascii=False))
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        marks = ", ".join(m for m, on in (("default", r["default"]), ("trusted", r["trusted"])) if on)
        typer.echo(f"{r['name']:{width}}  {r['source']}" + (f"  ({marks})" if marks else ""))
    where = ", ".join(config.sources) or f"none (add [tool.shipyard] to pyproject.toml or {user_config_path()})"
    typer.echo(f"config: {where}")


@template_app.command("check", epilog="Exit codes: 0 every step passed (or was skipped, saying why), "
                                      "1 a step failed, 2 bad usage, 6 the template cannot be read.")
def template_check(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="'production', a template folder, or a git URL[@ref].")],
    values: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="An example answer (default: each question's default). Repeatable.")] = None,
    no_tests: Annotated[bool, typer.Option("--no-tests", help="Do not run the generated project's tests.")] = False,
    keep: Annotated[Path | None, typer.Option("--keep", metavar="DIR", help="Keep the rendered projects here.")] = None,
    example: Annotated[Path | None, typer.Option(
        "--example", metavar="REPO", help="A notebook repo to adopt with the template (its tests then run on "
                                          "real data), instead of the example answers alone.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report on stdout.")] = False,
    trust: Annotated[bool, typer.Option("--trust", help="Allow the template to run tasks.")] = False,
) -> None:
    """Render the template with example answers, lint what it generates, run the generated project's tests,
    and rehearse an update from the previous version with a user edit in place."""
    from .template_check import check

    with _reported(as_json):
        report = check(source, values=_pairs(values), run_tests=not no_tests, trust=trust, keep=keep,
                       example=example)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        typer.echo(f"template {report.source} {report.version or '(unversioned)'}")
        for step in report.steps:
            first, *rest = (step.detail or "").splitlines() or [""]
            typer.echo(f"  {step.status:4}  {step.name}" + (f": {first}" if first else ""))
            if step.status == "fail":
                for line in rest[-25:]:
                    typer.echo(f"          {line}")
        failed = [s.name for s in report.steps if s.status == "fail"]
        typer.echo("All checks passed." if not failed else f"{len(failed)} step(s) failed: {', '.join(failed)}")
    if not report.ok:
        raise typer.Exit(1)


def _write_report(target: Path, text: str) -> None:
    """Write a report file whole or not at all (a temporary file in the same folder, then a rename)."""
    import os
    import tempfile

    from .errors import InputFileError

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise InputFileError(f"cannot write {target}: {exc.strerror}", hint="give --output a writable path",
                             path=str(target)) from exc


def _ids(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for item in values or [] for v in item.split(",") if v.strip())


@app.command(epilog="Exit codes: 0 audited (at or above every floor), 1 below a floor, 2 bad usage, "
                    "4 unreadable folder or pyproject.toml.")
def doctor(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The repository (adopted or not).")] = Path("."),
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT",
                                     help="table, json, markdown, sarif or html.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE",
                                                help="Write the report here instead of stdout.")] = None,
    fail_under: Annotated[float | None, typer.Option(
        "--fail-under", metavar="N", help="Exit 1 when the ML Test Score (0-7) is below N.")] = None,
    fail_under_governance: Annotated[float | None, typer.Option(
        "--fail-under-governance", metavar="PCT", help="Exit 1 when governance is below PCT percent.")] = None,
    fail_under_delivery: Annotated[float | None, typer.Option(
        "--fail-under-delivery", metavar="PCT", help="Exit 1 when delivery is below PCT percent.")] = None,
    select: Annotated[list[str] | None, typer.Option(
        "--select", metavar="IDS", help="Only these checks: ids, families or patterns (gov-*). Repeatable.")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", metavar="IDS", help="Skip these checks (ids, families, patterns). Repeatable.")] = None,
    no_plugins: Annotated[bool, typer.Option("--no-plugins", help="Run the built-in checks only.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Table: every message and its evidence.")] = False,
    list_checks: Annotated[bool, typer.Option("--list-checks", help="List the registered checks and exit.")] = False,
    schema: Annotated[bool, typer.Option("--schema", help="Print the JSON schema of --format json and exit.")] = False,
) -> None:
    """Audit production readiness: the 28 tests of Google's ML Test Score, governance and delivery. Static:
    it reads the files, never runs the project's code. Configure it in [tool.shipyard.doctor] of
    pyproject.toml (fail-under, fail-under-governance, fail-under-delivery, select, ignore)."""
    from dataclasses import replace

    from .errors import UsageError

    as_json = fmt == "json"
    with _reported(as_json, left="nothing was changed"):
        if fmt not in ("table", "json", "markdown", "sarif", "html"):
            raise UsageError(f"unknown format {fmt!r}", hint="use table, json, markdown, sarif or html")
        from .checks.registry import all_checks

        if schema:
            from importlib.resources import files

            typer.echo(files("shipyard.checks").joinpath("doctor.schema.json").read_text(encoding="utf-8"), nl=False)
            return
        if list_checks:
            items, errors = all_checks(plugins=not no_plugins)
            for item in items:
                typer.echo(f"{item.id:<22} {item.family:<15} {item.title}" +
                           ("" if item.origin == "shipyard" else f"  [{item.origin}]"))
            for error in errors:
                typer.echo(f"warning: plugin {error.name} did not load: {error.message}", err=True)
            return
        from .checks import audit, read_config
        from .checks.formats import render

        config = read_config(path)
        changes = {k: v for k, v in (("fail_under", fail_under), ("fail_under_governance", fail_under_governance),
                                     ("fail_under_delivery", fail_under_delivery)) if v is not None}
        if select:
            changes["select"] = _ids(select)
        if ignore:
            changes["ignore"] = config.ignore + _ids(ignore)
        if no_plugins:
            changes["plugins"] = False
        result = audit(path, replace(config, **changes))
        text = render(result, fmt, verbose=verbose)
        if output is not None:
            _write_report(output, text)
        else:
            typer.echo(text, nl=False)
    if output is not None and not as_json:
        from .checks.scoring import shown

        typer.echo(f"ML Test Score {shown(result.ml_test_score)} ({result.band}); report written to {output}",
                   err=True)
    for reason in result.below_floor():
        if fmt != "table" or output is not None:
            typer.echo(f"below the floor: {reason}", err=True)
    if result.below_floor():
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
