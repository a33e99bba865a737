"""`check-ownership`: OWNERSHIP.yaml must name real people before the model is in production."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import settings as S

PLACEHOLDERS = ("todo", "tbd", "example.com", "example.org", "changeme", "fixme", "xxx", "<")
# Fields whose values must be real once lifecycle is production.
CHECKED = ("owners", "business_process", "accountability", "on_call", "escalation", "maintenance", "review_date")


def load_ownership(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def is_placeholder(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, dict)) and not value:
        return True
    if isinstance(value, str):
        text = value.strip().lower()
        return not text or any(p in text for p in PLACEHOLDERS)
    return False


def placeholder_fields(data: dict[str, Any]) -> list[str]:
    """Dotted paths of empty or placeholder values under the sections of CHECKED."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, f"{path}.{k}")
        elif isinstance(value, list) and value:
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif is_placeholder(value):
            found.append(path)

    owners = data.get("owners")
    if not isinstance(owners, dict):
        found.append("owners")
    else:
        for key in ("business", "technical", "data"):
            walk(owners.get(key), f"owners.{key}")
        for key, value in owners.items():
            if key not in ("business", "technical", "data"):
                walk(value, f"owners.{key}")
    for key in CHECKED[1:]:
        if key in data:
            walk(data[key], key)
        else:
            found.append(key)
    return found


@dataclass
class OwnershipCheck:
    file: Path
    found: bool
    lifecycle: str = "experimental"
    placeholders: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Missing file: not ok; placeholders: ok until the lifecycle is production."""
        return self.found and (not self.placeholders or self.lifecycle != "production")


def check(path: str | None = None) -> OwnershipCheck:
    settings = S.Settings.load()
    file = Path(path) if path else settings.ownership_path
    data = load_ownership(file)
    if data is None:
        return OwnershipCheck(file, False)
    lifecycle = str(data.get("lifecycle") or "experimental").strip().lower()
    return OwnershipCheck(file, True, lifecycle, placeholder_fields(data))
