"""Liveness and readiness probes (no auth, no configuration details)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from feedbackvault.api.context import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Answer while the process is up."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Answer 200 when both databases answer and the keys are loaded, else 503."""
    ready = services().ready()
    return jsonify({"status": "ready" if ready else "unavailable"}), 200 if ready else 503
