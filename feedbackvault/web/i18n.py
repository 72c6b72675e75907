"""Pick each page's language (Dutch or English) and format dates the way readers expect."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path

from babel import Locale, dates
from flask import Flask, g, request, session
from flask_babel import Babel, get_locale, get_timezone
from markupsafe import Markup

from feedbackvault.domain.clock import isoformat_z
from feedbackvault.web.labels import labels

LANGUAGES = ("nl", "en")
# The market is Dutch: a browser that states no preference gets Dutch.
DEFAULT_LANGUAGE = "nl"
SESSION_KEY = "lang"
TRANSLATIONS = Path(__file__).parent / "translations"
# Due dates are stored in UTC; people read them in Dutch time (CET/CEST).
DISPLAY_TIMEZONE = "Europe/Amsterdam"
# "12 dec. 2026" / "12 Dec 2026", parsed once.
DATE_PATTERN = dates.parse_pattern("d MMM y")
DATE_TIME_PATTERN = dates.parse_pattern("d MMM y HH:mm")
TIME_ELEMENT = Markup('<time datetime="%s" title="%s">%s</time>')


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
    locale, zone = _page_locale_and_zone()
    pattern = DATE_TIME_PATTERN if with_time else DATE_PATTERN
    shown = pattern.apply(moment.astimezone(zone), locale)
    return TIME_ELEMENT % (exact, exact, shown)


def _page_locale_and_zone() -> tuple[Locale, tzinfo]:
    """Return the page's locale and display zone, looked up once per request.

    Flask-Babel's helpers look both up again on every call, and a queue page
    formats a hundred dates (bench_console.py).
    """
    cached: tuple[Locale, tzinfo] | None = g.get("locale_and_zone")
    if cached is None:
        cached = (get_locale(), get_timezone())
        g.locale_and_zone = cached
    return cached


def init_app(app: Flask) -> None:
    """Install Flask-Babel with the package's catalogues and the locale rules above."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_DEFAULT_TIMEZONE"] = DISPLAY_TIMEZONE
    Babel(app, locale_selector=select_locale)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(
        when=when, page_language=language, languages=LANGUAGES, labels=labels
    )
