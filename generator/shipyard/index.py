"""What a package index offers for a few distributions: PEP 691 JSON (or PEP 503 HTML) Simple API pages.

Used to check that a declared pin can be installed (:mod:`shipyard.inspect.pins`). One request per
distribution, all in parallel (threads), a few seconds of timeout each; answers are cached in
Shipyard's cache (``<cache>/index/<digest of the index URL>/<name>.json``) for :data:`TTL_SECONDS`, so
a second adopt asks nothing and decides the same. Nothing here prints or raises on network trouble:
a distribution the index did not answer for is simply missing from the result.

The index is ``$SHIPYARD_INDEX_URL``, else ``$PIP_INDEX_URL``, else https://pypi.org/simple/;
``SHIPYARD_OFFLINE=1`` sends no request (fresh cached answers are still used).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_INDEX = "https://pypi.org/simple/"
TTL_SECONDS = 24 * 3600
TIMEOUT_SECONDS = 4.0
_MAX_BYTES = 64 * 1024 * 1024
_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
           "text/html;q=0.01")
_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# File kinds pip can install from: wheels and source archives (not eggs, .exe or .msi installers).
_INSTALLABLE = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")


@dataclass(frozen=True, kw_only=True)
class IndexFile:
    filename: str
    requires_python: str | None = None  # as the index states it, None when absent
    yanked: bool = False
    year: int | None = None  # upload year, when the index says (PEP 700)


@dataclass(frozen=True, kw_only=True)
class IndexProject:
    name: str  # PEP 503 normalised
    found: bool  # False: the index has no such project (404)
    files: tuple[IndexFile, ...] = ()


def index_url() -> str:
    """The index to ask: ``$SHIPYARD_INDEX_URL``, else ``$PIP_INDEX_URL``, else PyPI."""
    url = os.environ.get("SHIPYARD_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX
    return url if url.endswith("/") else url + "/"


def offline() -> bool:
    return os.environ.get("SHIPYARD_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def display_url(url: str) -> str:
    """The index URL without any user:password part, fit to be written into a report."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url, flags=re.I)


def _cache_folder(url: str) -> Path:
    import hashlib

    from .render import cache_dir

    return cache_dir() / "index" / hashlib.sha256(display_url(url).encode()).hexdigest()[:16]


def _read_cache(folder: Path, name: str, now: float) -> IndexProject | None:
    try:
        data = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not 0 <= now - float(data["fetched"]) < TTL_SECONDS:
            return None
        files = tuple(IndexFile(filename=str(f[0]), requires_python=f[1], yanked=bool(f[2]), year=f[3])
                      for f in data["files"])
        return IndexProject(name=name, found=bool(data["found"]), files=files)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _write_cache(folder: Path, project: IndexProject, now: float) -> None:
    data = {"fetched": now, "found": project.found,
            "files": [[f.filename, f.requires_python, f.yanked, f.year] for f in project.files]}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{project.name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, folder / f"{project.name}.json")
    except OSError:  # a read-only cache only means asking again next time
        pass


def _parse_json(text: str) -> list[IndexFile]:
    data = json.loads(text)
    out = []
    for item in data.get("files", []) if isinstance(data, dict) else []:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            continue
        rp = item.get("requires-python")
        stamp = item.get("upload-time")
        year = int(stamp[:4]) if isinstance(stamp, str) and stamp[:4].isdigit() else None
        out.append(IndexFile(filename=item["filename"], requires_python=rp if isinstance(rp, str) else None,
                             yanked=bool(item.get("yanked")), year=year))
    return out


def _parse_html(text: str) -> list[IndexFile]:
    from html.parser import HTMLParser
    from urllib.parse import unquote, urlsplit

    out: list[IndexFile] = []

    class Anchors(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag != "a":
                return
            found = dict(attrs)
            href = found.get("href") or ""
            filename = unquote(urlsplit(href).path.rsplit("/", 1)[-1])
            if filename:
                out.append(IndexFile(filename=filename, requires_python=found.get("data-requires-python"),
                                     yanked="data-yanked" in found))

    Anchors().feed(text)
    return out


def _fetch(url: str, name: str, down: list[bool]) -> IndexProject | None:
    """Ask the index about one project; None when it could not be asked (network, server error).

    ``down`` is shared by the threads of one call: once the index cannot be reached, the requests not
    yet sent are not sent, so an unreachable index costs one timeout, not one per distribution.
    """
    if down[0]:
        return None
    import base64
    import gzip
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url + f"{name}/")
    headers = {"Accept": _ACCEPT, "Accept-Encoding": "gzip", "User-Agent": "shipyard"}
    if parts.username is not None:  # credentials in PIP_INDEX_URL: send them as HTTP basic auth
        token = f"{parts.username}:{parts.password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        parts = parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))
    request = urllib.request.Request(urlunsplit(parts), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(_MAX_BYTES + 1)
            kind = response.headers.get("Content-Type", "")
            encoding = response.headers.get("Content-Encoding", "")
    except urllib.error.HTTPError as exc:
        return IndexProject(name=name, found=False) if exc.code in (404, 410) else None
    except (OSError, ValueError):  # refused, unreachable, timed out, TLS, malformed URL
        down[0] = True
        return None
    if len(body) > _MAX_BYTES:
        return None
    try:
        text = (gzip.decompress(body) if encoding == "gzip" else body).decode("utf-8")
        files = _parse_json(text) if "json" in kind else _parse_html(text)
    except (OSError, ValueError, EOFError):
        return None
    keep = tuple(f for f in files if f.filename.lower().endswith(_INSTALLABLE))
    return IndexProject(name=name, found=True, files=keep)


def projects(names: list[str], url: str | None = None) -> dict[str, IndexProject]:
    """What the index offers for each normalised name it answered for (cached first, then asked in parallel)."""
    url = url or index_url()
    folder = _cache_folder(url)
    now = time.time()
    wanted = sorted({n for n in names if _NAME.fullmatch(n)})
    found: dict[str, IndexProject] = {}
    missing: list[str] = []
    for name in wanted:
        cached = _read_cache(folder, name, now)
        if cached is None:
            missing.append(name)
        else:
            found[name] = cached
    if missing and not offline():
        from concurrent.futures import ThreadPoolExecutor

        down = [False]
        with ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
            for name, project in zip(missing, pool.map(lambda n: _fetch(url, n, down), missing), strict=True):
                if project is not None:
                    found[name] = project
                    _write_cache(folder, project, now)
    return found
