"""Rate-limit the collect endpoints per token and per client address.

Two limits apply to `POST /api/v1/responses` and `POST /api/v1/consents/withdraw`,
counted over both endpoints together: one per bearer token (keyed by the token's
SHA-256, never the token) and one per client address. They are checked before the
token is looked up or the body is read, so a refused request costs no database work
and stores nothing. A refusal is a 429 problem document with `Retry-After`; every
counted answer carries `X-RateLimit-Limit`, `-Remaining` and `-Reset` for the
shortest window (the refusing one on a 429).

Counters live in process memory by default: under gunicorn every worker counts on
its own, so the effective limit is the configured one times the number of workers.
Set `FEEDBACKVAULT_RATE_LIMIT_STORAGE=redis://...` (extra `redis`) to share them;
while Redis cannot be reached, each worker counts in memory and tries Redis again
after 1, 2, 4 ... 32 s. Behind a reverse proxy the client address is the proxy's
unless the deployment wraps the app in werkzeug's `ProxyFix`; the per-token limit
holds either way.

The counting is the `limits` package's fixed windows, with the keys Flask-Limiter
gave them, called directly: Flask-Limiter's per-request bookkeeping (resolving and
filtering its limits for every request, on every endpoint) cost ~7% of a submission
(py-spy, 2 sync workers under wrk), several times the counting itself.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, g, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from feedbackvault.api import limit_counters
from feedbackvault.api.auth import bearer_secret
from feedbackvault.settings import Settings

logger = logging.getLogger("feedbackvault.limits")
# The routes that take submissions from survey front-ends (POST only).
COLLECT_PATHS = frozenset({"/api/v1/responses", "/api/v1/consents/withdraw"})
# The first part of every counter key (the keys Flask-Limiter used, so counts carry over).
KEY_PREFIX = "feedbackvault"
# While shared storage is unreachable, the pause before trying it again doubles up to this.
RECHECK_FIRST_S = 1.0
RECHECK_MAX_S = 32.0
# Where a request keeps the limit its headers describe.
COUNTED = "rate_limit_counted"


def token_key() -> str:
    """Key the per-token limit by the bearer token's hash (one key for no token)."""
    secret = bearer_secret()
    if secret is None:
        return "token:none"
    return "token:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def address_key() -> str:
    """Key the per-address limit by the client address."""
    return "address:" + (request.remote_addr or "127.0.0.1")


def not_collect() -> bool:
    """Exempt every request that is not a submission to a collect endpoint."""
    return (
        request.method != "POST"
        or request.url_rule is None
        or request.url_rule.rule not in COLLECT_PATHS
    )


def log_breach(limit: RateLimitItem) -> None:
    """Log which limit refused a request, without its key (an address is personal data)."""
    logger.warning(
        "rate limited",
        extra={
            "fields": {
                "route": request.url_rule.rule if request.url_rule else "<unmatched>",
                "limit": str(limit),
            }
        },
    )


def storage_uri(configured: str) -> str:
    """Map the configured storage to the `limits` one: `memory://` means our window counters."""
    return f"{limit_counters.SCHEME}://" if configured == "memory://" else configured


@dataclass(frozen=True)
class CollectLimit:
    """One configured rate, the scope it counts in and how a request's key is found."""

    item: RateLimitItem
    scope: str
    key: Callable[[], str]


@dataclass(frozen=True)
class Counted:
    """The limit one request's headers describe, and where it was counted."""

    limit: CollectLimit
    identifiers: tuple[str, str, str]
    counter: FixedWindowRateLimiter


class CollectLimits:
    """Count collect requests against every configured limit, shortest window first."""

    def __init__(self, settings: Settings) -> None:
        limits = [
            CollectLimit(item, "collect-token", token_key)
            for item in parse_many(settings.rate_limit_per_token)
        ] + [
            CollectLimit(item, "collect-address", address_key)
            for item in parse_many(settings.rate_limit_per_address)
        ]
        # Stable: a token's limit goes before an address's of the same window.
        self.limits = sorted(limits, key=lambda limit: limit.item.GRANULARITY.seconds)
        self.shared = FixedWindowRateLimiter(
            storage_from_string(storage_uri(settings.rate_limit_storage))
        )
        self.local = FixedWindowRateLimiter(limit_counters.WindowCounters())
        self._lock = threading.Lock()
        self._retry_shared_at: float | None = None  # None while the shared storage works
        self._pause = RECHECK_FIRST_S

    def check(self) -> None:
        """Count a collect request; refuse it with 429 when any limit is used up."""
        if not_collect():
            return
        counter = self._counter()
        try:
            self._count(counter)
        except TooManyRequests:
            raise
        except Exception:
            if counter is self.local:
                # Process memory failing is a bug, not an outage: let the request through.
                logger.exception("rate limiting failed")
                return
            self._shared_failed()
            self._count(self.local)

    def add_headers(self, response: Response) -> Response:
        """Describe the counted limit on the response; give a 429 its `Retry-After`."""
        counted: Counted | None = g.pop(COUNTED, None)
        if counted is None:
            return response
        try:
            reset, remaining = counted.counter.get_window_stats(
                counted.limit.item, *counted.identifiers
            )
        except Exception:
            logger.warning("rate limit storage unreachable for headers")
            return response
        reset_at = int(reset + 1)
        response.headers["X-RateLimit-Limit"] = str(counted.limit.item.amount)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(reset_at)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(int(reset_at - time.time()))
        return response

    def _count(self, counter: FixedWindowRateLimiter) -> None:
        first: Counted | None = None
        for limit in self.limits:
            identifiers = (KEY_PREFIX, limit.key(), limit.scope)
            counted = Counted(limit, identifiers, counter)
            if not counter.hit(limit.item, *identifiers):
                setattr(g, COUNTED, counted)
                log_breach(limit.item)
                raise TooManyRequests()
            first = first or counted
        setattr(g, COUNTED, first)

    def _counter(self) -> FixedWindowRateLimiter:
        with self._lock:
            if self._retry_shared_at is None:
                return self.shared
            now = time.monotonic()
            if now < self._retry_shared_at:
                return self.local
            if self.shared.storage.check():
                logger.warning("rate limit storage recovered")
                self._retry_shared_at, self._pause = None, RECHECK_FIRST_S
                return self.shared
            self._pause = min(self._pause * 2, RECHECK_MAX_S)
            self._retry_shared_at = now + self._pause
            return self.local

    def _shared_failed(self) -> None:
        with self._lock:
            if self._retry_shared_at is None:
                logger.warning("rate limit storage unreachable, counting in memory")
                self._retry_shared_at = time.monotonic() + self._pause


def init_app(app: Flask, settings: Settings) -> CollectLimits:
    """Install the two collect limits on the app."""
    limits = CollectLimits(settings)
    app.before_request(limits.check)
    app.after_request(limits.add_headers)
    return limits
