"""Set browser security headers on every response, and CORS for survey front-ends.

Every answer (JSON, problem documents, /docs) carries `nosniff`, `DENY` framing,
`no-referrer`, `no-store` and a Content-Security-Policy. API JSON gets the strictest
policy (`default-src 'none'`); web pages may load scripts and styles from the service
itself only (no inline script or style); the Swagger UI page at /docs may load its scripts and
styles from the CDN configured in `api/blueprint.py` and run its own inline script,
allowed by hash. `Strict-Transport-Security` is always sent; browsers honour it
only over HTTPS, so it takes effect once the service is behind TLS.

CORS is off unless `FEEDBACKVAULT_CORS_ORIGINS` lists exact origins; it then opens
only the collect endpoints and the receipt public key to those origins.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
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
DOCS_ENDPOINT_SUFFIX = "openapi_swagger_ui"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
# Paths a survey front-end calls from the browser.
CORS_PATHS = (
    r"^/api/v1/responses$",
    r"^/api/v1/consents/withdraw$",
    r"^/api/v1/receipts/public-key$",
)


def docs_policy(page: bytes, cdn_url: str) -> str:
    """Build the /docs policy: CDN assets, the spec from here, inline scripts by hash."""
    parts = urlsplit(cdn_url)
    cdn = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + "'"
        for body in INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src {cdn} {hashes}; "
        # Swagger UI sets style attributes at run time.
        f"style-src {cdn} 'unsafe-inline'; img-src 'self' data: {cdn}; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
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
    endpoint = request.endpoint or ""
    if endpoint.endswith(DOCS_ENDPOINT_SUFFIX) and response.status_code == 200:
        cdn_url = str(current_app.config.get("OPENAPI_SWAGGER_UI_URL", ""))
        policy = docs_policy(response.get_data(), cdn_url)
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
