"""Serve the interactive API docs at /docs from vendored Swagger UI, with no CDN."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

# Swagger UI's assets and our own start-up script; no inline script, no third-party host.
bp = Blueprint(
    "docs",
    __name__,
    static_folder="static",
    static_url_path="/docs/assets",
    template_folder="templates",
)


@bp.get("/docs")
def swagger_ui() -> str:
    """Render the Swagger UI page for the OpenAPI document of this service."""
    return render_template("docs/swagger.html", spec_url=url_for("api-docs.openapi_json"))
