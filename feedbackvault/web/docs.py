"""Serve the interactive API docs at /docs from vendored Swagger UI, with no CDN."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

# The page only; Swagger UI's files and our start-up script are web assets (/assets/).
bp = Blueprint("docs", __name__, template_folder="templates")


@bp.get("/docs")
def swagger_ui() -> str:
    """Render the Swagger UI page for the OpenAPI document of this service."""
    return render_template("docs/swagger.html", spec_url=url_for("api-docs.openapi_json"))
