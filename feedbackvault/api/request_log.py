"""Log one structured line per request: route, status, duration; never bodies or queries."""

from __future__ import annotations

import json
import logging
import time
import uuid

from flask import Flask, Response, g, request

logger = logging.getLogger("feedbackvault.request")


class JsonFormatter(logging.Formatter):
    """Format records as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record, its structured fields and any exception type (not its text)."""
        line: dict[str, object] = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's message may quote data; its type and place do not.
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, separators=(",", ":"))


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
        g.request_started = time.perf_counter()
        g.request_id = uuid.uuid4().hex

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("request_started", time.perf_counter())
        caller = g.get("caller")
        logger.info(
            "request",
            extra={
                "fields": {
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    # The route pattern, not the path: ids stay out of logs and metrics.
                    "route": request.url_rule.rule if request.url_rule else "<unmatched>",
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "token": caller.name if caller else None,
                }
            },
        )
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response
