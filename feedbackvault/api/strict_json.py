"""Read request bodies as strict JSON: one meaning per body or a 400/413/415, never a 500.

API.md ("Conventions"): a body is `application/json` in UTF-8; JSON that repeats a
key in one object, nests deeper than 32 levels, holds a number longer than 20
digits, NaN or Infinity, or a lone UTF-16 surrogate is refused with 400, before
anything reads it. Python's own `json` takes the last of two equal keys (so
`"opt_in": false, "opt_in": true` was consent), raises RecursionError 1,000 levels
down, ValueError on an integer over 4,300 digits, and decodes `"\\udfff"` to a
string that no UTF-8 encoder (SQLite, PostgreSQL, the ciphers) will take.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

MAX_DEPTH = 32
MAX_DIGITS = 20
JSON_MIMETYPE = "application/json"
UTF8_NAMES = frozenset({"utf-8", "utf8"})
# Only a `\uD800`-`\uDFFF` escape can put a surrogate into a string decoded from UTF-8.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
SURROGATE = re.compile("[\ud800-\udfff]")


class Refused(ValueError):
    """The body is JSON with more than one meaning, or none Python can hold."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    loaded = dict(pairs)
    if len(loaded) != len(pairs):
        raise Refused("repeated key")
    return loaded


def _integer(text: str) -> int:
    if len(text) - text.startswith("-") > MAX_DIGITS:
        raise Refused("long number")
    return int(text)


def _fraction(text: str) -> float:
    if sum(c.isdigit() for c in text) > MAX_DIGITS:
        raise Refused("long number")
    value = float(text)
    if not math.isfinite(value):
        raise Refused("number out of range")
    return value


def _constant(_name: str) -> Any:
    raise Refused("NaN or Infinity")


DECODER = json.JSONDecoder(
    object_pairs_hook=_object, parse_int=_integer, parse_float=_fraction, parse_constant=_constant
)


def _check(value: Any, depth: int, surrogates: bool) -> None:
    """Refuse nesting deeper than MAX_DEPTH and (when asked) strings holding a surrogate."""
    if isinstance(value, str):
        if surrogates and SURROGATE.search(value):
            raise Refused("lone surrogate")
        return
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise Refused("nested too deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if surrogates and isinstance(key, str) and SURROGATE.search(key):
                raise Refused("lone surrogate")
            _check(item, depth + 1, surrogates)


def loads(raw: bytes) -> Any:
    """Decode a UTF-8 JSON body under the rules above; `Refused` or ValueError otherwise."""
    try:
        value = DECODER.decode(raw.decode("utf-8"))
    except RecursionError:
        raise Refused("nested too deep") from None
    surrogates = SURROGATE_ESCAPE.search(raw) is not None
    # A body with at most MAX_DEPTH brackets cannot nest deeper: most skip the walk.
    if surrogates or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:
        _check(value, 0, surrogates)
    return value


def is_utf8_json(request: Request) -> bool:
    """Tell whether the body is declared `application/json`, in UTF-8 or without a charset."""
    if request.mimetype != JSON_MIMETYPE:
        return False
    charset = {k.lower(): v for k, v in request.mimetype_params.items()}.get("charset", "utf-8")
    return charset.strip().lower() in UTF8_NAMES


def body_bytes(request: Request) -> bytes:
    """Read the body; 413 when it runs past the limit, with or without a Content-Length.

    Werkzeug stops reading a chunked body at `MAX_CONTENT_LENGTH` without saying so,
    which made an oversized chunked body look like truncated JSON (400).
    """
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    unsized = limit is not None and request.content_length is None and len(raw) >= limit
    if unsized and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return raw


def read_json(request: Request) -> Any:
    """Read a request's JSON body: 415 unless UTF-8 JSON, 400 unless strict JSON."""
    if not is_utf8_json(request):
        raise UnsupportedMediaType()
    raw = body_bytes(request)
    if not raw:
        raise BadRequest()
    try:
        return loads(raw)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError and Refused are ValueErrors
        raise BadRequest() from None
