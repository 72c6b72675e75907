"""Every endpoint x every caller: the status each must get, generated from the URL map.

The expected access of each route is written down below. A route the app
serves that is missing from the table fails `test_every_served_route_has_a_rule`,
so a new endpoint cannot ship without deciding who may call it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedbackvault.app import Services
from feedbackvault.services.tokens import ROLES
from tests.support import bearer

PUBLIC = "public"
ANY_ROLE = frozenset(ROLES)
COLLECTOR = frozenset({"collector"})
OFFICER = frozenset({"privacy_officer"})
ANALYST = frozenset({"analyst"})
FOLLOW_UP = frozenset({"follow_up"})

# (method, rule) -> who may call it: PUBLIC, or the set of roles allowed.
ACCESS: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/api/v1/receipts/public-key"): PUBLIC,
    ("GET", "/api/v1/purposes"): ANY_ROLE,
    ("POST", "/api/v1/responses"): COLLECTOR,
    ("POST", "/api/v1/consents/withdraw"): COLLECTOR,
    ("POST", "/api/v1/privacy/requests"): OFFICER,
    ("GET", "/api/v1/privacy/requests"): OFFICER,
    ("GET", "/api/v1/privacy/requests/<string:request_id>"): OFFICER,
    ("POST", "/api/v1/privacy/requests/<string:request_id>/verify"): OFFICER,
    ("POST", "/api/v1/privacy/requests/<string:request_id>/extend"): OFFICER,
    ("POST", "/api/v1/privacy/requests/<string:request_id>/reject"): OFFICER,
    ("POST", "/api/v1/privacy/requests/<string:request_id>/fulfil"): OFFICER,
    ("GET", "/api/v1/privacy/requests/<string:request_id>/export"): OFFICER,
    ("GET", "/api/v1/privacy/audit"): OFFICER,
    ("GET", "/api/v1/aggregates"): ANALYST,
    ("GET", "/api/v1/scores"): ANALYST,
    ("GET", "/api/v1/surveys"): ANALYST,
    ("GET", "/api/v1/follow-ups"): FOLLOW_UP,
    ("GET", "/api/v1/follow-ups/<string:response_id>"): FOLLOW_UP,
    ("POST", "/api/v1/follow-ups/<string:response_id>/done"): FOLLOW_UP,
}
# Flask's own static-file route and the docs page's assets (under /assets/) serve no data.
IGNORED_ENDPOINTS = {"static"}
# Web pages use personal accounts, not tokens: tests/web/test_console_access.py holds
# their matrix (every page x every role).
# The privacy centre (/privacy) is public pages for respondents: tests/privacy_centre.
PAGE_PREFIXES = ("/console", "/assets/", "/privacy")
CALLERS = (*ROLES, "no token", "revoked token", "malformed header", "unknown token")


def served_routes(app: Flask) -> Iterator[tuple[str, str]]:
    """Yield (method, rule) for every route the app serves."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS or rule.rule.startswith(PAGE_PREFIXES):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, rule.rule


def concrete_path(rule: str) -> str:
    """Fill every path parameter with a random id."""
    parts = []
    for part in rule.split("/"):
        parts.append(str(uuid.uuid4()) if part.startswith("<") else part)
    return "/".join(parts)


def expected_status(access: str | frozenset[str], caller: str) -> int | None:
    """Return the status the cell must get (None: anything but 401, 403 and 5xx)."""
    if access == PUBLIC:
        return None
    if caller in ROLES:
        return None if caller in access else 403
    return 401


def test_every_served_route_has_a_rule(app: Flask) -> None:
    assert sorted(set(served_routes(app)) - set(ACCESS)) == []


def test_every_rule_is_still_served(app: Flask) -> None:
    assert sorted(set(ACCESS) - set(served_routes(app))) == []


@pytest.fixture
def headers_by_caller(services: Services) -> dict[str, dict[str, str]]:
    """Headers for each kind of caller, with real tokens."""
    headers = {role: bearer(services.tokens.create(role, f"matrix-{role}")) for role in ROLES}
    revoked = services.tokens.create("privacy_officer", "matrix-revoked")
    services.tokens.revoke("matrix-revoked")
    headers["revoked token"] = bearer(revoked)
    headers["no token"] = {}
    headers["malformed header"] = {"Authorization": "Token abc"}
    headers["unknown token"] = bearer("fv_" + "x" * 43)
    return headers


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "rule"), sorted(ACCESS))
def test_access_matrix_cell(
    method: str,
    rule: str,
    caller: str,
    client: FlaskClient,
    headers_by_caller: dict[str, dict[str, str]],
) -> None:
    path = concrete_path(rule)
    kwargs: dict[str, object] = {"headers": headers_by_caller[caller]}
    if method == "POST":
        kwargs["json"] = {}
    response = client.open(path, method=method, **kwargs)  # type: ignore[arg-type]
    expected = expected_status(ACCESS[(method, rule)], caller)
    if expected is None:
        assert response.status_code not in (401, 403) and response.status_code < 500
    else:
        assert response.status_code == expected
        assert response.mimetype == "application/problem+json"
