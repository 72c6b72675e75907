"""Rate-limit the collect endpoints per token and per client address.

Two limits apply to `POST /api/v1/responses` and `POST /api/v1/consents/withdraw`,
counted over both endpoints together: one per bearer token (keyed by the token's
SHA-256, never the token) and one per client address. They are checked before the
token is looked up or the body is read, so a refused request costs no database work
and stores nothing. A refusal is a 429 problem document with `Retry-After`.

Counters live in process memory by default: under gunicorn every worker counts on
its own, so the effective limit is the configured one times the number of workers.
Set `FEEDBACKVAULT_RATE_LIMIT_STORAGE=redis://...` (extra `redis`) to share them.
Behind a reverse proxy the client address is the proxy's unless the deployment
wraps the app in werkzeug's `ProxyFix`; the per-token limit holds either way.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from flask import Flask, Response, request
from flask_limiter import HeaderNames, Limit, Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from feedbackvault.api import limit_counters
from feedbackvault.api.auth import bearer_secret
from feedbackvault.settings import Settings

logger = logging.getLogger("feedbackvault.limits")
# The routes that take submissions from survey front-ends (POST only).
COLLECT_PATHS = frozenset({"/api/v1/responses", "/api/v1/consents/withdraw"})
# The limiter writes its wait here on every counted response; it becomes Retry-After on 429.
LIMITER_RETRY_HEADER = "X-RateLimit-Retry-After"


def token_key() -> str:
    """Key the per-token limit by the bearer token's hash (one key for no token)."""
    secret = bearer_secret()
    if secret is None:
        return "token:none"
    return "token:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def address_key() -> str:
    """Key the per-address limit by the client address."""
    return "address:" + get_remote_address()


def not_collect() -> bool:
    """Exempt every request that is not a submission to a collect endpoint."""
    return request.url_rule is None or request.url_rule.rule not in COLLECT_PATHS


def log_breach(breach: RequestLimit) -> None:
    """Log which limit refused a request, without its key (an address is personal data)."""
    logger.warning(
        "rate limited",
        extra={
            "fields": {
                "route": request.url_rule.rule if request.url_rule else "<unmatched>",
                "limit": str(breach.limit),
            }
        },
    )


def retry_after_on_refusal(response: Response) -> Response:
    """Give a 429 the limiter's wait as `Retry-After`; leave every other answer's alone."""
    wait = response.headers.pop(LIMITER_RETRY_HEADER, None)
    if response.status_code == 429 and wait is not None:
        response.headers["Retry-After"] = wait
    return response


def storage_uri(configured: str) -> str:
    """Map the configured storage to the limiter's: `memory://` means our window counters."""
    return f"{limit_counters.SCHEME}://" if configured == "memory://" else configured


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Install the two collect limits on the app."""
    # Registered before the limiter's own hook, so it runs after it adds its headers.
    app.after_request(retry_after_on_refusal)
    # Its own breach message quotes the key (a client address): keep it quiet.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    limits: list[str | Callable[[], str] | Limit] = [
        Limit(
            settings.rate_limit_per_token,
            key_function=token_key,
            scope="collect-token",
            shared=True,
            methods=["POST"],
            exempt_when=not_collect,
        ),
        Limit(
            settings.rate_limit_per_address,
            key_function=address_key,
            scope="collect-address",
            shared=True,
            methods=["POST"],
            exempt_when=not_collect,
        ),
    ]
    return Limiter(
        address_key,
        app=app,
        default_limits=limits,
        storage_uri=storage_uri(settings.rate_limit_storage),
        headers_enabled=True,
        # Its own Retry-After would land on every response, overwriting a 503's.
        header_name_mapping={HeaderNames.RETRY_AFTER: LIMITER_RETRY_HEADER},
        # With Redis down, count in memory rather than refuse or wave through.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        on_breach=log_breach,
        key_prefix="feedbackvault",
    )
