"""Liveness and readiness probes (no auth, no configuration details)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from feedbackvault.api.blueprint import Blueprint
from feedbackvault.api.context import services

bp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators")


class HealthSchema(ma.Schema):
    """The state of the process, in one word."""

    status = ma.fields.String(metadata={"description": "`ok`, `ready` or `unavailable`"})


@bp.route("/healthz", methods=["GET"])
@bp.response(200, HealthSchema)
def healthz() -> dict[str, str]:
    """Answer while the process is up."""
    return {"status": "ok"}


@bp.route("/readyz", methods=["GET"])
@bp.response(200, HealthSchema)
@bp.alt_response(503, schema=HealthSchema, description="A database or the keys are unavailable")
def readyz() -> Any:
    """Answer 200 when both databases answer and the keys are loaded, else 503."""
    ready = services().ready()
    return {"status": "ready" if ready else "unavailable"}, 200 if ready else 503
