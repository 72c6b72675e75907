"""The record of processing activities (Art. 30), from the policies, in the page's language."""

from __future__ import annotations

from flask import Response, render_template

from feedbackvault.policies.ropa import build_register, render_ropa
from feedbackvault.web.console.blueprint import REQUEST_READERS, bp
from feedbackvault.web.context import services
from feedbackvault.web.i18n import language
from feedbackvault.web.sessions import require_roles


@bp.route("/register")
@require_roles(*REQUEST_READERS)
def register() -> str:
    """Show the register built from the loaded policies."""
    return render_template(
        "console/register.html", register=build_register(services().policies, language())
    )


@bp.route("/register.md")
@require_roles(*REQUEST_READERS)
def register_markdown() -> Response:
    """Download the same register as Markdown."""
    lang = language()
    body = render_ropa(services().policies, lang)
    name = "verwerkingsregister.md" if lang == "nl" else "record-of-processing-activities.md"
    return Response(
        body,
        mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
