"""Refuse addresses longer than any the API serves, as a problem document (414)."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException

# The longest id in a path is 36 characters and every query is a few short words;
# 2,048 leaves room for all of them. gunicorn itself refuses request lines over its
# `limit_request_line` with an HTML page, so `feedbackvault serve` raises that to
# 8,190 and the service answers everything between.
MAX_ADDRESS_CHARS = 2048


class UriTooLong(HTTPException):
    """The request line is longer than this service accepts."""

    code = 414
    description = "The address is longer than this service accepts."


def refuse_long_address() -> None:
    """Answer 414 for a path and query longer than MAX_ADDRESS_CHARS."""
    if len(request.full_path) > MAX_ADDRESS_CHARS:
        raise UriTooLong()


def init_app(app: Flask) -> None:
    """Check every request's address first."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_long_address)
