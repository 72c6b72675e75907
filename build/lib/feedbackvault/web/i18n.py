"""Pick each page's language (Dutch or English) and format dates the way readers expect."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, request, session
from flask_babel import Babel, format_date, format_datetime, get_locale
from markupsafe import Markup, escape

from feedbackvault.domain.clock import isoformat_z

LANGUAGES = ("nl", "en")
# The market is Dutch: a browser that states no preference gets Dutch.
DEFAULT_LANGUAGE = "nl"
SESSION_KEY = "lang"
TRANSLATIONS = Path(__file__).parent / "translations"
# Due dates are stored in UTC; people read them in Dutch time (CET/CEST).
DISPLAY_TIMEZONE = "Europe/Amsterdam"


def select_locale() -> str:
    """Choose `?lang=`, else the language remembered in the session, else Accept-Language."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = session.get(SESSION_KEY)
    if remembered in LANGUAGES:
        return str(remembered)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def remember_language() -> None:
    """Keep a `?lang=nl|en` choice in the session for the following pages."""
    asked = request.args.get("lang")
    if asked in LANGUAGES and session.get(SESSION_KEY) != asked:
        session[SESSION_KEY] = asked


def language() -> str:
    """Return the language of the current page."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def when(moment: datetime | str | None, *, with_time: bool = False) -> Markup:
    """Render a moment as '12 dec. 2026' / '12 Dec 2026', its exact UTC time on hover."""
    if moment is None:
        return Markup("&ndash;")
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    exact = isoformat_z(moment)
    shown = (
        format_datetime(moment, "d MMM y HH:mm") if with_time else format_date(moment, "d MMM y")
    )
    return Markup('<time datetime="{0}" title="{0}">{1}</time>').format(exact, escape(shown))


def init_app(app: Flask) -> None:
    """Install Flask-Babel with the package's catalogues and the locale rules above."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_DEFAULT_TIMEZONE"] = DISPLAY_TIMEZONE
    Babel(app, locale_selector=select_locale)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(when=when, page_language=language, languages=LANGUAGES)
