"""Console sessions: signed cookies, 30 minutes idle, tied to the account's session version."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

from flask import Flask, abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from feedbackvault.services.accounts import AccountInfo
from feedbackvault.settings import Settings
from feedbackvault.web.context import services

F = TypeVar("F", bound=Callable[..., Any])
# API.md: a session expires after 30 minutes idle.
IDLE_TIMEOUT = timedelta(minutes=30)
COOKIE_NAME = "fv_session"
ACCOUNT_KEY, VERSION_KEY, SEEN_KEY = "account", "version", "seen"


def configure(app: Flask, settings: Settings) -> None:
    """Set the session cookie's flags and the secret that signs it (no default secret)."""
    app.secret_key = settings.secret_key
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.tls,
        # Flask also refuses a cookie signed longer ago than this (its own clock).
        PERMANENT_SESSION_LIFETIME=IDLE_TIMEOUT,
        SESSION_REFRESH_EACH_REQUEST=True,
    )


def start(account: AccountInfo) -> None:
    """Begin a fresh session for an account that just logged in (no state carried over)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session.permanent = True
    session[ACCOUNT_KEY] = account.id
    session[VERSION_KEY] = account.session_version
    session[SEEN_KEY] = services().clock.now().timestamp()


def end() -> None:
    """Forget the account in this browser, keeping only its language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def load_account() -> AccountInfo | None:
    """Return the logged-in account, ending a session idle too long or no longer valid."""
    account_id, version = session.get(ACCOUNT_KEY), session.get(VERSION_KEY)
    if not isinstance(account_id, str) or not isinstance(version, int):
        return None
    now = services().clock.now().timestamp()
    seen = session.get(SEEN_KEY)
    if not isinstance(seen, float | int) or now - seen > IDLE_TIMEOUT.total_seconds():
        end()
        g.session_expired = True
        return None
    account = services().accounts.session_account(account_id, version)
    if account is None:
        end()
        return None
    session[SEEN_KEY] = now
    return account


def current_account() -> AccountInfo:
    """Return the account `require_roles` let through."""
    account = g.get("account")
    assert isinstance(account, AccountInfo), "page is not behind require_roles"
    return account


def require_roles(*roles: str) -> Callable[[F], F]:
    """Let only a logged-in account with one of `roles` in: else the login page, or 403."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            account = g.get("account")
            if account is None:
                return _to_login()
            if account.must_change_password and request.endpoint != "console.password":
                return redirect(url_for("console.password"))
            if account.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate


def _to_login() -> Response:
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("console.login", next=target))


def safe_next(target: str | None) -> str | None:
    """Accept a `next` address only inside the console (no open redirect)."""
    if target and target.startswith("/console/") and not target.startswith("/console//"):
        return target
    return None
