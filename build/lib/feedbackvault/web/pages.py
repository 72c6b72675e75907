"""What every page shares: CSRF, the per-request hook and the error page."""

from __future__ import annotations

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect

from feedbackvault.domain.errors import Conflict, FeedbackVaultError, Forbidden, NotFound
from feedbackvault.web import i18n, sessions

# Pages live under these paths; everything else answers as the JSON API does.
PAGE_PREFIXES = ("/console", "/privacy", "/assets/")
csrf = CSRFProtect()
# What a use case refuses maps to the page of that status; anything else is a 400 page.
STATUS_BY_ERROR: dict[type[FeedbackVaultError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
}


def is_page_path(path: str) -> bool:
    """Tell whether a path belongs to the web pages rather than to the API."""
    return any(
        path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/")
        for prefix in PAGE_PREFIXES
    )


def error_page(status: int) -> tuple[str, int]:
    """Render a short error page in the page's language."""
    titles = {
        400: _("This request could not be handled"),
        403: _("You may not see or do this"),
        404: _("Page not found"),
        405: _("This is not possible here"),
        409: _("This is not possible in the current state"),
        503: _("The console is not set up yet"),
    }
    texts = {
        400: _("The form was incomplete or has expired. Go back, reload the page and try again."),
        403: _("Your role does not give access to this page or action."),
        404: _("There is no page at this address. Check the address or go back to the start."),
        405: _("This page cannot be used this way."),
        409: _("Someone may have changed it meanwhile. Go back and reload the page."),
        503: _(
            "The service has no session secret. Run feedbackvault init, or set "
            "FEEDBACKVAULT_SECRET_KEY, and restart the service."
        ),
    }
    page = render_template(
        "error.html",
        status=status,
        title=titles.get(status, _("Something went wrong")),
        text=texts.get(status, _("Try again later.")),
    )
    return page, status


def before_page() -> tuple[str, int] | None:
    """Check set-up and CSRF, remember the language and load the account."""
    if not current_app.secret_key:
        return error_page(503)
    i18n.remember_language()
    if request.method == "POST":
        csrf.protect()
    g.account = sessions.load_account()
    return None


def domain_failed(error: FeedbackVaultError) -> tuple[str, int]:
    """Answer a use case's refusal that a view did not expect with a page, never JSON."""
    return error_page(STATUS_BY_ERROR.get(type(error), 400))


def csrf_failed(error: CSRFError) -> tuple[str, int]:
    """Answer a form without a valid CSRF token with 400, having changed nothing."""
    del error  # its text is English; the page explains in the page's language
    return error_page(400)
