"""Shipyard's configuration: named templates, the default template and trusted template sources.

Read from the user's config file (``$SHIPYARD_CONFIG``, else ``$XDG_CONFIG_HOME/shipyard/config.toml``,
else ``~/.config/shipyard/config.toml``) and from the ``[tool.shipyard]`` table of the ``pyproject.toml``
in the current folder; the project's table wins::

    [tool.shipyard]
    default-template = "acme"                       # what adopt and new use without --template
    trusted = ["https://git.acme.example/platform/"] # sources whose tasks and hooks may run without --trust

    [tool.shipyard.templates]
    acme = "https://git.acme.example/platform/ml-template.git"
    acme-batch = "../templates/batch@v2"
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True, kw_only=True)
class Config:
    templates: dict[str, str] = field(default_factory=dict)
    default_template: str | None = None
    trusted: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # the files it was read from


def user_config_path() -> Path:
    env = os.environ.get("SHIPYARD_CONFIG")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "shipyard" / "config.toml"


def _table(path: Path, *, in_pyproject: bool) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path} cannot be read as TOML: {exc}", hint="fix the file or remove it") from exc
    table = data.get("tool", {}).get("shipyard", {}) if in_pyproject else data
    return table if isinstance(table, dict) else {}


def load(cwd: Path | None = None) -> Config:
    here = cwd or Path.cwd()
    templates: dict[str, str] = {}
    default: str | None = None
    trusted: list[str] = []
    sources: list[str] = []
    for path, in_pyproject in ((user_config_path(), False), (here / "pyproject.toml", True)):
        table = _table(path, in_pyproject=in_pyproject)
        if not table:
            continue
        sources.append(str(path))
        named = table.get("templates", {})
        if not isinstance(named, dict) or not all(isinstance(v, str) for v in named.values()):
            raise UsageError(f"{path}: templates must map names to sources",
                             hint='for example: acme = "https://git.example.com/ml-template.git"')
        base = path.parent
        for name, spec in named.items():
            templates[name] = str(base / spec) if spec.startswith(("./", "../")) else spec
        if isinstance(table.get("default-template"), str):
            default = table["default-template"]
        more = table.get("trusted", [])
        if not isinstance(more, list) or not all(isinstance(t, str) for t in more):
            raise UsageError(f"{path}: trusted must be a list of source prefixes",
                             hint='for example: trusted = ["https://git.example.com/platform/"]')
        trusted += more
    return Config(templates=templates, default_template=default, trusted=tuple(trusted), sources=tuple(sources))
