"""The cookiecutter engine: a ``cookiecutter.json`` template rendered into a staging folder, as copier
templates are, with its answers recorded in ``.cruft.json`` (cruft's format) so that ``update`` can
replay them on the old and the new version and merge 3-way.

Hooks (``hooks/pre_gen_project.py``, ``post_gen_project.py``) run code on the user's machine, and
cookiecutter's Jinja is not sandboxed (a template expression can run code; a file name can point outside
the project): a cookiecutter template is refused before anything is rendered unless its source is trusted
(``--trust``, or a prefix in the config's ``trusted``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import TemplateError, UntrustedTemplateError

STATE_FILE = ".cruft.json"


def is_cookiecutter(folder: Path) -> bool:
    return (folder / "cookiecutter.json").is_file() and not any(
        (folder / n).is_file() for n in ("copier.yml", "copier.yaml"))


def questions(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / "cookiecutter.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TemplateError(f"{folder / 'cookiecutter.json'} is not valid JSON: {exc}",
                            hint="fix the template's cookiecutter.json") from exc
    def kind(default: Any) -> str:  # a choice (a list of strings) is answered with one of its strings
        if isinstance(default, str) or (isinstance(default, list) and all(isinstance(x, str) for x in default)):
            return "str"
        return "yaml"

    return {k: kind(v) for k, v in data.items() if not k.startswith("_")}


def recorded_state(root: Path) -> dict[str, Any]:
    """``.cruft.json`` of a project as answers in copier's shape (``_src_path``, ``_commit``, the answers)."""
    path = root / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("template"), str):
        return {}
    context = (data.get("context") or {}).get("cookiecutter") or {}
    answers = {k: v for k, v in context.items() if isinstance(k, str) and not k.startswith("_")}
    return {**answers, "_src_path": data["template"], "_commit": data.get("checkout") or data.get("commit") or "",
            "_engine": "cookiecutter"}


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise TemplateError(f"git {args[0]} failed for the template: {done.stderr.strip()[:200]}",
                            hint="check the template source and the ref")
    return done.stdout.strip()


def checkout(location: str, ref: str | None, into: Path) -> tuple[Path, str, str]:
    """A local copy of the template at ``ref`` (default: its latest tag, else its HEAD).

    Returns (folder, version, commit): the version is the tag when the commit has one, else the commit.
    A folder that is not a git repository is used as it is (version and commit "").
    """
    from .gitinfo import latest_tag, newest

    src = Path(location)
    if src.is_dir() and not (src / ".git").exists():
        return src, "", ""
    subprocess.run(["git", "clone", "-q", "--no-checkout", location, str(into)], capture_output=True, check=False)
    if not (into / ".git").exists():
        raise TemplateError(f"cannot clone the template {location}", hint="check the URL or path and your access")
    target = ref or latest_tag(into) or "HEAD"
    _git(into, "checkout", "-q", "--detach", target)
    commit = _git(into, "rev-parse", "HEAD")
    tags = _git(into, "tag", "--points-at", "HEAD").split()
    version = (ref if ref in tags else newest(tags)) or (ref if ref and ref != "HEAD" else commit[:12])
    return into, version, commit


def render(location: str, recorded_location: str, ref: str | None, answers: Mapping[str, Any], dest: Path, *,
           trust: bool) -> tuple[str, dict[str, Any]]:
    """Render the cookiecutter template into ``dest``; write ``.cruft.json`` there. Returns (version, answers)."""
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_context, generate_files
    from cookiecutter.prompt import prompt_for_config

    with tempfile.TemporaryDirectory(prefix="shipyard-cookiecutter-") as tmp:
        folder, version, commit = checkout(location, ref, Path(tmp) / "template")
        hooks = folder / "hooks"
        if hooks.is_dir() and any(p.is_file() for p in hooks.iterdir()) and not trust:
            names = ", ".join(sorted(p.name for p in hooks.iterdir() if p.is_file()))
            raise UntrustedTemplateError(f"template {recorded_location} wants to run hooks on this machine ({names})",
                                hint="read the hooks, then pass --trust if you accept that")
        if not trust:
            # cookiecutter renders with a plain (unsandboxed) Jinja environment and writes where a rendered
            # file name points: any cookiecutter template can run code and write outside the project
            raise UntrustedTemplateError(f"template {recorded_location} is a cookiecutter template: cookiecutter renders "
                                "without a sandbox, so its templates run with your permissions",
                                hint="read the template, then pass --trust, or trust its source in the "
                                     "config (trusted = [...], see docs/platform-teams.md)")
        known = questions(folder)
        extra = {k: v for k, v in answers.items() if k in known}
        out = Path(tmp) / "out"
        try:
            context = generate_context(context_file=str(folder / "cookiecutter.json"), extra_context=extra)
            context["cookiecutter"] = prompt_for_config(context, no_input=True)
            context["cookiecutter"]["_template"] = recorded_location
            project = Path(generate_files(repo_dir=str(folder), context=context, output_dir=str(out),
                                          overwrite_if_exists=True, accept_hooks=trust))
        except CookiecutterException as exc:
            raise TemplateError(f"template {recorded_location} failed to render: {exc}",
                                hint="check the template and the answers") from exc
        except Exception as exc:  # Jinja errors, hook failures: translated at the boundary
            raise TemplateError(f"template {recorded_location} failed to render: {type(exc).__name__}: {exc}",
                                hint="check the template and the answers") from exc
        dest.mkdir(parents=True, exist_ok=True)
        for child in project.iterdir():
            shutil.move(str(child), dest / child.name)
    recorded = {k: v for k, v in context["cookiecutter"].items()}
    state = {"template": recorded_location, "commit": commit or None, "checkout": version or None,
             "context": {"cookiecutter": recorded}, "directory": None, "skip": []}
    (dest / STATE_FILE).write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return version, {k: v for k, v in recorded.items() if not k.startswith("_")}
