"""Set browser security headers on every response, and CORS for survey front-ends.

Every answer (JSON, problem documents, /docs) carries `nosniff`, `DENY` framing,
`no-referrer`, `no-store` and a Content-Security-Policy. API JSON gets the strictest
policy (`default-src 'none'`); web pages may load scripts and styles from the service
itself only (no inline script or style); the Swagger UI page at /docs loads its
vendored scripts and styles from this service only (`'self'`), with no inline script.
`Strict-Transport-Security` is always sent; browsers honour it only over HTTPS, so
it takes effect once the service is behind TLS.

CORS is off unless `FEEDBACKVAULT_CORS_ORIGINS` lists exact origins; it then opens
only the collect endpoints and the receipt public key to those origins.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask_cors import CORS

from feedbackvault.settings import Settings

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The web pages (console, privacy centre): their own scripts and styles only, nothing
# inline, forms posting back to this service.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_PATHS = re.compile(r"^/(?:console|privacy)(?:/|$)|^/assets/")
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Each static header with its lower-cased name, to test presence against one scan.
STATIC_ROWS = tuple((name, name.lower(), value) for name, value in STATIC_HEADERS.items())
CSP_HEADER = "Content-Security-Policy"
DOCS_ENDPOINT = "docs.swagger_ui"
# Swagger UI draws its icons as data: images; it fetches the spec from this service.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# Paths a survey front-end calls from the browser.
CORS_PATHS = (
    r"^/api/v1/responses$",
    r"^/api/v1/consents/withdraw$",
    r"^/api/v1/receipts/public-key$",
)


def add_security_headers(response: Response) -> Response:
    """Add the security headers to one response, keeping static ones a view already set.

    The same headers, in the same order, as a `setdefault` per static header and then
    setting the policy; but werkzeug scans every header on each of those calls (about
    20 scans an answer), so the names present are read once here instead.
    """
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    for name, lowered, value in STATIC_ROWS:
        if lowered not in present:
            headers.add(name, value)
    if request.endpoint == DOCS_ENDPOINT:
        policy = DOCS_CSP
    elif PAGE_PATHS.match(request.path):
        policy = PAGE_CSP
    else:
        policy = API_CSP
    if CSP_HEADER.lower() in present:
        headers.set(CSP_HEADER, policy)  # replaces the first in place, drops the rest
    else:
        headers.add(CSP_HEADER, policy)
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """Install the headers on every response and CORS for the configured origins."""
    app.after_request(add_security_headers)
    if settings.cors_origins:
        origins = list(settings.cors_origins)
        CORS(
            app,
            resources={path: {"origins": origins} for path in CORS_PATHS},
            methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After", "X-Request-Id"],
            # Bearer tokens travel in a header, never in cookies.
            supports_credentials=False,
            max_age=600,
        )
