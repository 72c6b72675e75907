"""Log in, change the password, see the account, log out."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from feedbackvault.domain.errors import NotFound, ValidationFailed
from feedbackvault.services.accounts import (
    SAME_AS_EMAIL,
    TOO_LONG,
    TOO_SHORT,
    UNCHANGED,
    WRONG_CURRENT,
    LoginRefused,
)
from feedbackvault.web import sessions
from feedbackvault.web.console.blueprint import ANALYST, AUDITOR, FOLLOW_UP, OFFICER, bp, home_for
from feedbackvault.web.context import services
from feedbackvault.web.forms import ActForm, LoginForm, PasswordForm

EVERYONE = (OFFICER, AUDITOR, ANALYST, FOLLOW_UP)


def _password_message(message: str) -> str:
    """Translate the account service's password messages."""
    known = {
        WRONG_CURRENT: _("The current password is not correct."),
        TOO_SHORT: _("Use at least 12 characters."),
        TOO_LONG: _("Use at most 256 characters."),
        UNCHANGED: _("Choose a password different from the current one."),
        SAME_AS_EMAIL: _("Do not use your e-mail address as password."),
    }
    return str(known.get(message, _("This password cannot be used.")))


@bp.route("/")
def index() -> Response:
    """Send a person to their role's first page, or to the login page."""
    account = g.get("account")
    if account is None:
        return redirect(url_for("console.login"))
    return redirect(home_for(account.role))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Show the login form and check the e-mail address and password."""
    if g.get("account") is not None and request.method == "GET":
        return redirect(home_for(g.account.role))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        try:
            account = services().accounts.login(form.email.data or "", form.password.data or "")
        except LoginRefused:
            failed = True
        else:
            sessions.start(account)
            if account.must_change_password:
                return redirect(url_for("console.password"))
            target = sessions.safe_next(request.args.get("next"))
            return redirect(target or home_for(account.role))
    status = 401 if failed else (400 if form.errors else 200)
    page = render_template(
        "console/login.html",
        form=form,
        failed=failed,
        expired=bool(g.get("session_expired")),
    )
    return page, status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End every session of the account and return to the login page."""
    account = g.get("account")
    if account is not None:
        services().accounts.logout(account.id)
    sessions.end()
    flash(_("You are logged out."), "ok")
    return redirect(url_for("console.login"))


@bp.route("/account")
@sessions.require_roles(*EVERYONE)
def account() -> str:
    """Show the account: name, role and the latest logins."""
    return render_template("console/account.html", logout_form=ActForm())


@bp.route("/account/password", methods=["GET", "POST"])
@sessions.require_roles(*EVERYONE)
def password() -> Response | str | tuple[str, int]:
    """Change the password; the one-time password must be changed before anything else."""
    account = sessions.current_account()
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            changed = services().accounts.change_password(
                account.id, form.current_password.data or "", form.new_password.data or ""
            )
        except ValidationFailed as exc:
            for name, messages in exc.errors.items():
                field = getattr(form, name)
                field.errors = [_password_message(m) for m in messages]
        except NotFound:
            sessions.end()
            return redirect(url_for("console.login"))
        else:
            sessions.start(changed)
            flash(_("Your password has been changed."), "ok")
            return redirect(home_for(changed.role))
    status = 400 if form.errors else 200
    return render_template("console/password.html", form=form), status
