"""Read a large notebook's JSON without its outputs, in bounded memory.

A notebook's code is small; its bulk is in cell ``outputs`` (base64 plots, printed frames) and
markdown ``attachments``. :func:`slim_json` streams the file in chunks and copies everything except
the values of those two keys, which it replaces with an empty ``[]`` / ``{}``, so the result is still
valid JSON (when the input was) and small enough for :func:`json.loads`.

Outside a skipped value no string state is needed: inside a JSON string every ``"`` is escaped, so
the byte sequence ``"outputs"`` followed by ``:`` can only be an object key. Inside a skipped value
strings are tracked (so a ``]`` inside a base64 or text output does not end it) and brackets are
counted. Memory: one chunk plus what is kept, and the kept part is capped.
"""

from __future__ import annotations

import re
from typing import BinaryIO

CHUNK = 8 * 1024 * 1024
#: What a notebook may keep once its outputs are gone (code, markdown, metadata): beyond it, refused.
MAX_KEPT = 64 * 1024 * 1024
_KEY = re.compile(rb'"outputs"\s*:\s*(\[)|"attachments"\s*:\s*(\{)')
_TAIL = 64  # a key split across two chunks is at most this long (with generous whitespace)
_SKIP_TOKENS = re.compile(rb'["\[\]{}]')


class SlimError(ValueError):
    """The file cannot be slimmed: malformed (an unterminated value) or too much left after slimming."""


def slim_json(handle: BinaryIO, *, chunk: int = CHUNK, max_kept: int = MAX_KEPT) -> tuple[bytes, int]:
    """The file's JSON bytes without output and attachment values, and how many bytes were dropped."""
    kept = bytearray()
    dropped = 0
    pending = b""  # unprocessed bytes carried over (a possible split key)
    depth = 0  # > 0 while skipping a value
    in_string = False
    escaped = False
    first = True
    while True:
        block = handle.read(chunk)
        if first:
            first = False
            if block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
        at_end = not block
        data = pending + block
        pending = b""
        pos = 0
        size = len(data)
        quote = -1  # the next '"' at or after pos while in a string (size: none in this chunk)
        while pos < size:
            if depth == 0:
                found = _KEY.search(data, pos)
                if found is None:
                    if at_end:
                        kept += data[pos:]
                        pos = size
                    else:
                        cut = max(pos, size - _TAIL)
                        kept += data[pos:cut]
                        pending = data[cut:]
                        pos = size
                    break
                if not at_end and found.end() >= size:  # the match may grow with the next chunk (whitespace)
                    kept += data[pos:found.start()]
                    pending = data[found.start():]
                    pos = size
                    break
                kept += data[pos:found.end()]
                kept += b"]" if found.group(1) else b"}"
                pos = found.end()
                depth = 1
                continue
            start = pos
            if in_string:
                while pos < size:
                    if escaped:
                        escaped = False
                        pos += 1
                        continue
                    if quote < pos:
                        quote = data.find(b'"', pos)
                        quote = size if quote == -1 else quote
                    slash = data.find(b"\\", pos, quote)
                    if slash != -1:
                        pos = slash + 1
                        escaped = True
                        continue
                    pos = quote + 1 if quote < size else size
                    in_string = quote == size
                    break
            else:
                token = _SKIP_TOKENS.search(data, pos)
                if token is None:
                    pos = size
                else:
                    char = token.group(0)
                    pos = token.end()
                    if char == b'"':
                        in_string = True
                    elif char in (b"[", b"{"):
                        depth += 1
                    else:
                        depth -= 1
            dropped += pos - start
        if len(kept) > max_kept:
            raise SlimError(f"more than {max_kept // (1024 * 1024)} MB of code and metadata besides its outputs")
        if at_end:
            break
    if depth:
        raise SlimError("malformed JSON: an output or attachment never ends")
    return bytes(kept), dropped
