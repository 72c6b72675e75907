"""Drive the console's forms from tests: CSRF tokens, login, password change."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

NEW_PASSWORD = "een lange zin als wachtwoord"
CSRF = re.compile(r'name="(?:[a-z]+-)?csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/console/login") -> str:
    """Load a page and return the CSRF token of its first form."""
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no form with a CSRF token on {path} (status {page.status_code})"
    return found.group(1)


def post_form(
    client: FlaskClient, path: str, data: dict[str, Any], *, page: str | None = None
) -> TestResponse:
    """Post a form with a CSRF token taken from `page` (default: the login page)."""
    token = csrf_token(client, page or "/console/login")
    return client.post(path, data={"csrf_token": token, **data})


def login(client: FlaskClient, email: str, password: str) -> TestResponse:
    """Log in through the login form."""
    return post_form(client, "/console/login", {"email": email, "password": password})


def change_password(client: FlaskClient, current: str, new: str) -> TestResponse:
    """Change the password through its form."""
    return post_form(
        client,
        "/console/account/password",
        {"current_password": current, "new_password": new, "confirm": new},
        page="/console/account/password",
    )


def text_of(response: TestResponse) -> str:
    """Return a page's visible text, tags removed and white space collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
