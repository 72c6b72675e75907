"""Log one structured line per request: route, status, duration; never bodies or queries."""

from __future__ import annotations

import json
import logging
import time
import uuid

from flask import Flask, Response, g, request

logger = logging.getLogger("feedbackvault.request")
AT_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
# Built once: `json.dumps` with separators builds a new encoder for every line.
ENCODE = json.JSONEncoder(separators=(",", ":")).encode
# Where a request keeps when it started and its id (one `g` lookup, not two).
STARTED = "request_log_started"


class JsonFormatter(logging.Formatter):
    """Format records as one JSON object per line."""

    def __init__(self) -> None:
        super().__init__()
        # The "at" text changes once a second; lines in between reuse it.
        self._at: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        """Render the record, its structured fields and any exception type (not its text)."""
        second, at = self._at
        if second != int(record.created):
            at = self.formatTime(record, AT_FORMAT)
            self._at = (int(record.created), at)
        line: dict[str, object] = {
            "at": at,
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's message may quote data; its type and place do not.
            line["exception"] = record.exc_info[0].__name__
        return ENCODE(line)


def configure_logging(level: str) -> None:
    """Send feedbackvault's loggers to stderr as JSON lines."""
    root = logging.getLogger("feedbackvault")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    """Time every request and log it once it is answered."""

    @app.before_request
    def _start() -> None:
        setattr(g, STARTED, (time.perf_counter(), uuid.uuid4().hex))

    @app.after_request
    def _log(response: Response) -> Response:
        # Missing when an earlier hook refused the request before `_start` ran.
        started, request_id = g.get(STARTED) or (time.perf_counter(), None)
        caller = g.get("caller")
        rule = request.url_rule
        logger.info(
            "request",
            extra={
                "fields": {
                    "request_id": request_id,
                    "method": request.method,
                    # The route pattern, not the path: ids stay out of logs and metrics.
                    "route": rule.rule if rule else "<unmatched>",
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "token": caller.name if caller else None,
                }
            },
        )
        response.headers["X-Request-Id"] = request_id or ""
        return response
