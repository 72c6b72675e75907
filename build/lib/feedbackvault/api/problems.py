"""Answer every error as an RFC 9457 problem document."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import marshmallow as ma
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from feedbackvault.domain.errors import (
    Conflict,
    FeedbackVaultError,
    Forbidden,
    NotFound,
    ValidationFailed,
)

logger = logging.getLogger("feedbackvault.errors")
PROBLEM_TYPE_BASE = "https://feedbackvault.dev/problems/"
STATUS_BY_ERROR: dict[type[FeedbackVaultError], int] = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
}
# Generic wording per status: details never repeat what the client sent.
DETAILS = {
    400: "The request body is not valid JSON.",
    401: "A valid bearer token is required.",
    403: "This token's role may not do this.",
    404: "Nothing exists at this address.",
    405: "This method is not allowed here.",
    413: "The request body is larger than this service accepts.",
    415: "The request body must be JSON (Content-Type: application/json).",
    422: "The request does not pass validation.",
    429: "Too many requests; slow down.",
    500: "The service failed to handle this request.",
    503: "The service cannot reach its storage right now.",
}


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document."""

    type = ma.fields.String(metadata={"description": "URI naming the kind of problem"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Validation messages by field path"},
    )


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    errors: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build a problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail or DETAILS.get(status, title),
    }
    if errors:
        body["errors"] = {field: list(messages) for field, messages in errors.items()}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages into `{"a.b": [...]}`."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = [str(m) for m in messages]
    elif isinstance(messages, list | tuple):
        for index, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


def http_problem(error: HTTPException) -> Response:
    """Turn any HTTP error (including webargs' 422) into a problem document."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = None
    if "messages" in data:
        # webargs nests by location ({"json": {...}, "query": {...}}); drop that level.
        errors = {}
        for location_messages in data["messages"].values():
            errors.update(flatten_messages(location_messages))
    headers = dict(data.get("headers") or {})
    headers.update({k: v for k, v in error.get_headers() if k.lower() == "retry-after"})
    return problem(status, error.name, DETAILS.get(status), errors, headers)


def domain_problem(error: FeedbackVaultError) -> Response:
    """Turn a use-case error into a problem document."""
    status = STATUS_BY_ERROR.get(type(error), 400)
    errors = error.errors if isinstance(error, ValidationFailed) else None
    return problem(status, error.title, error.detail, errors)


def unavailable_problem(error: Exception) -> Response:
    """Answer 503 when the storage cannot be reached; the transaction stored nothing."""
    logger.warning("storage unavailable", extra={"fields": {"error": type(error).__name__}})
    return problem(503, "Service Unavailable", headers={"Retry-After": "5"})


def init_app(app: Flask) -> None:
    """Register the problem handlers for domain errors (HTTP errors go through the Api)."""
    app.register_error_handler(FeedbackVaultError, domain_problem)
