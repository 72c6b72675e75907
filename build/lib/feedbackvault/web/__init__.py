"""The web pages: the console for people (and, later, the public privacy centre)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from feedbackvault.settings import Settings
from feedbackvault.web import i18n, sessions
from feedbackvault.web.console import bp as console_bp
from feedbackvault.web.pages import csrf, csrf_failed, error_page, is_page_path

# Templates and assets shared by every page (`url_for('web.static', filename=...)`).
assets = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
PAGE_ERRORS = (400, 403, 404, 405)


def init_app(
    app: Flask,
    settings: Settings,
    api_http_error: Callable[[HTTPException], Response],
) -> None:
    """Install sessions, translations, CSRF and the page blueprints on the app."""
    sessions.configure(app, settings)
    # CSRF is checked by the pages' own hook, never on the API (bearer tokens, no cookies).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # Pages send no Referer (Referrer-Policy: no-referrer), so HTTPS's strict Referer
    # check would refuse every form; the token and SameSite=Lax cookies remain.
    app.config["WTF_CSRF_SSL_STRICT"] = False
    csrf.init_app(app)
    i18n.init_app(app)
    app.jinja_env.globals["view_exists"] = lambda endpoint: endpoint in app.view_functions
    app.register_blueprint(assets)
    app.register_blueprint(console_bp)
    app.register_error_handler(CSRFError, csrf_failed)

    def http_error(error: HTTPException) -> Response | tuple[str, int]:
        """Answer page addresses with a page and everything else with a problem document."""
        if is_page_path(request.path) and error.code in PAGE_ERRORS:
            if current_app.secret_key:
                i18n.remember_language()
            return error_page(error.code or 400)
        return api_http_error(error)

    for code in PAGE_ERRORS:
        app.register_error_handler(code, http_error)
