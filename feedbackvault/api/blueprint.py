"""The flask-smorest Api and Blueprint, speaking problem documents and strict JSON."""

from __future__ import annotations

import functools
import http
import json.scanner
from typing import Any

import flask
import flask_smorest
from apispec import BasePlugin
from flask import Flask, Response, current_app, request
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from feedbackvault.api import strict_json
from feedbackvault.api.limits import COLLECT_PATHS
from feedbackvault.api.problems import ProblemSchema, http_problem
from feedbackvault.domain.errors import ValidationFailed

PROBLEM_CONTENT_TYPE = "application/problem+json"
NUL_MESSAGE = "Text must not contain NUL characters."
REPEATED_MESSAGE = "Give this parameter once."
UNKNOWN_MESSAGE = "Unknown field."  # marshmallow's words for an unknown body field
# The C scanner (CPython's) reads exactly four hex digits after `\u`; the pure Python
# one passes them to int(), which reads `\u 000` or `\u0_00` as a NUL too.
STRICT_ESCAPES = getattr(json.scanner, "c_make_scanner", None) is not None


def holds_nul(value: Any) -> bool:
    """Tell whether any string in a decoded JSON value holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


def may_hold_nul(raw: bytes) -> bool:
    """Tell whether a UTF-8 JSON body may decode to a string holding NUL (False: it cannot).

    UTF-8 has the byte 0 only for NUL itself, and strict JSON (webargs decodes UTF-8
    and calls `json.loads`) refuses it raw inside a string, so a NUL can only be
    spelled `\\u0000`. Finding neither spares walking the decoded body (~1.5% of a
    submission).
    """
    return not STRICT_ESCAPES or b"\\u0000" in raw or b"\x00" in raw


def _query_names(schema: Any) -> frozenset[str]:
    instance = schema() if isinstance(schema, type) else schema
    return frozenset(field.data_key or name for name, field in instance.fields.items())


@functools.cache
def declared_query(view: Any, method: str) -> frozenset[str]:
    """Name the query parameters the view's `method` declares (none without a schema)."""
    handler = getattr(getattr(view, "view_class", None), method, None) or view
    parameters = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    names: frozenset[str] = frozenset()
    for parameter in parameters:
        if parameter.get("in") == "query":
            names |= _query_names(parameter["schema"])
    return names


def check_address() -> None:
    """Refuse NUL in the path or query, a query parameter given twice or unknown (422).

    PostgreSQL text cannot hold NUL (a 500 otherwise). No parameter of the API takes
    several values, and reading only the first of `?metric=nps&metric=csat` would
    answer a question the caller may not have meant to ask. An unknown parameter is
    refused like an unknown body field: `?overdue=true` used to be ignored silently.
    """
    if "\x00" in request.path or any(holds_nul(v) for v in request.args.values()):
        raise ValidationFailed({"query": [NUL_MESSAGE]})
    if not request.args:
        return
    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise ValidationFailed({name: [REPEATED_MESSAGE] for name in repeated})
    view = current_app.view_functions.get(request.endpoint or "")
    method = "get" if request.method == "HEAD" else request.method.lower()
    unknown = sorted(set(request.args) - declared_query(view, method))
    if unknown:
        raise ValidationFailed({name: [UNKNOWN_MESSAGE] for name in unknown})


class StrictJsonParser(FlaskParser):
    """Refuse bodies that are not JSON with 415, instead of reading them as empty.

    A JSON body schema with a `quick_load(body)` method is tried that way first: it
    returns what `load` would for a body it finds well formed, and None for anything
    else, which then goes through webargs and marshmallow for their exact 422 messages.
    """

    def parse(
        self,
        argmap: Any,
        req: flask.Request | None = None,
        *,
        location: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Parse the request's arguments, quickly where the schema offers it."""
        quick_load = getattr(argmap, "quick_load", None)
        if quick_load is not None and location == "json" and kwargs.get("validate") is None:
            body = self.load_json(req or flask.request, argmap)
            loaded = quick_load(body)
            if loaded is not None:
                return loaded
        return super().parse(argmap, req, location=location, **kwargs)

    def _raw_load_json(self, req: flask.Request) -> Any:
        body = strict_json.read_json(req)
        if may_hold_nul(req.get_data(cache=True)) and holds_nul(body):
            raise ValidationFailed({"body": [NUL_MESSAGE]})
        return body


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """A smorest blueprint strict about JSON, and refusing NUL characters anywhere."""

    ARGUMENTS_PARSER = StrictJsonParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(check_address)


class ProblemResponses(BasePlugin):
    """Document on every operation the problem documents it can answer.

    Derived from the operation itself, so new endpoints are covered without a
    decorator: every operation can answer 414 (a long address) and 422 (an unknown
    query parameter); bearer auth brings 401, 403 and 503 (the token lookup needs the
    database), a body brings 400, 413, 415 and 422, a path parameter 404, and the
    rate-limited collect endpoints 429. A state conflict (409) or an unknown id in
    a body (404) is declared by the view with `alt_response`.
    """

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        """Add the problem responses to each operation of one path."""
        for method, operation in (operations or {}).items():
            statuses: set[int] = {414, 422}
            if operation.get("security"):
                statuses |= {401, 403, 503}
            if "requestBody" in operation:
                statuses |= {400, 413, 415, 422}
            if path and "{" in path:
                statuses.add(404)
            if method.upper() == "POST" and path in COLLECT_PATHS:
                statuses.add(429)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                # A lazily registered component of the Api, named like HTTPStatus.
                responses.setdefault(str(status), http.HTTPStatus(status).name)


class Api(flask_smorest.Api):  # type: ignore[misc]
    """A smorest Api whose errors are RFC 9457 problem documents."""

    ERROR_SCHEMA = ProblemSchema
    # Every status an operation can answer is declared; a blanket `default` would let
    # a schema checker accept any status at all.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app: Flask | None = None, **kwargs: Any) -> None:
        spec_kwargs = dict(kwargs.pop("spec_kwargs", None) or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), ProblemResponses()]
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_responses(self) -> None:
        """Register the error responses as problem+json, not smorest's application/json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:
        """Answer any HTTP error as a problem document."""
        return http_problem(error)


def openapi_config(app: Flask) -> None:
    """Set the smorest options: spec at /api/v1/openapi.json (docs: `web/docs.py`)."""
    app.config.update(
        API_TITLE="feedbackvault",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="api/v1/openapi.json",
    )
