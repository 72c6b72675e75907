"""Cursor pages: an opaque position in a stable order, and the `next` link that carries it.

A cursor names the last item of a page (its sort key), never an offset, so items
added or closed while someone pages neither repeat nor go missing. It is base64url
JSON `[listing, *key]`: opaque to clients, and a cursor of one listing does not
open another.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import request

MAX_CURSOR_CHARS = 200
DEFAULT_PAGE = 100
MAX_PAGE = 1000
CURSOR_MESSAGE = "Not a cursor of this listing; follow a `next` link."


def encode(listing: str, key: Sequence[Any]) -> str:
    """Encode a listing's sort key as an opaque cursor."""
    text = json.dumps([listing, *key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode(listing: str, cursor: str) -> list[Any]:
    """Decode a cursor of `listing` into its sort key; ValueError for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, json.JSONDecodeError, RecursionError):
        raise ValueError(CURSOR_MESSAGE) from None
    if not isinstance(value, list) or not value or value[0] != listing:
        raise ValueError(CURSOR_MESSAGE)
    return value[1:]


def _text(text: str) -> str:
    # Validators run on the decoded value, so the cursor's own length is checked here.
    if not 1 <= len(text) <= MAX_CURSOR_CHARS:
        raise ma.ValidationError(CURSOR_MESSAGE)
    return text


class RequestCursor(ma.fields.String):
    """A position in the request listing: after (received_at, id)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"description": "From a `next` link; opaque"})
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = _text(super()._deserialize(value, attr, data, **kwargs))
        try:
            key = decode("requests", text)
            if len(key) != 2 or not all(isinstance(part, str) for part in key):
                raise ValueError(CURSOR_MESSAGE)
            received_at = datetime.fromisoformat(key[0])
        except (ValueError, OverflowError):
            raise ma.ValidationError(CURSOR_MESSAGE) from None
        if received_at.tzinfo is None or len(key[1]) > 36:
            raise ma.ValidationError(CURSOR_MESSAGE)
        return received_at, key[1]


class AuditCursor(ma.fields.String):
    """A position in the audit log: after sequence number `seq`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"description": "From a `next` link; opaque"})
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = _text(super()._deserialize(value, attr, data, **kwargs))
        try:
            key = decode("audit", text)
        except ValueError:
            raise ma.ValidationError(CURSOR_MESSAGE) from None
        if len(key) != 1 or type(key[0]) is not int or not 0 <= key[0] < 2**62:
            raise ma.ValidationError(CURSOR_MESSAGE)
        return key[0]


def page_size(**kwargs: Any) -> ma.fields.Integer:
    """The `limit` parameter of a listing: 1-1000, default 100."""
    return ma.fields.Integer(
        load_default=DEFAULT_PAGE,
        validate=ma.validate.Range(1, MAX_PAGE),
        metadata={"description": f"Items per page, 1-{MAX_PAGE}"},
        **kwargs,
    )


def next_link(cursor: str | None) -> str | None:
    """Return this request's address with `cursor` in place of its own (None: last page)."""
    if cursor is None:
        return None
    query = {name: value for name, value in request.args.items() if name != "cursor"}
    query["cursor"] = cursor
    return f"{request.path}?{urlencode(query)}"


def link_headers(next_address: str | None) -> dict[str, str]:
    """Return the RFC 8288 `Link` header to the next page, if there is one."""
    return {"Link": f'<{next_address}>; rel="next"'} if next_address else {}
