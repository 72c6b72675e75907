"""Helpers of the audit, register, purposes and scores page tests: people logged in, data."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedbackvault.app import Services
from feedbackvault.settings import Settings
from tests.support import FrozenClock, submission

NEW_PASSWORD = "een lange zin als wachtwoord"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def with_secret(settings: Settings) -> Settings:
    """Give an instance the session secret `feedbackvault init` writes."""
    settings.secret_key_file.write_text(secrets.token_urlsafe(48), encoding="ascii")
    settings.secret_key_file.chmod(0o600)
    return Settings.from_env(settings.environ)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], page: str) -> TestResponse:
    """Post a form with the CSRF token of the form on `page`."""
    found = CSRF.search(client.get(page).get_data(as_text=True))
    assert found, f"no CSRF token on {page}"
    return client.post(path, data={"csrf_token": found.group(1), **data})


def staff_maker(app: Flask, services: Services) -> Callable[[str], FlaskClient]:
    """Return a function that logs a new account of a role in and returns its browser."""

    def make(role: str) -> FlaskClient:
        email = f"{role}@voorbeeld.nl"
        one_time = services.accounts.create(email, role, name=role.replace("_", " ").title())
        client = app.test_client()
        login = {"email": email, "password": one_time}
        assert post_form(client, "/console/login", login, "/console/login").status_code == 302
        change = {"current_password": one_time, "new_password": NEW_PASSWORD}
        change["confirm"] = NEW_PASSWORD
        page = "/console/account/password"
        assert post_form(client, page, change, page).status_code == 302
        return client

    return make


def text_of(response: TestResponse) -> str:
    """Return a page's visible text, tags removed and white space collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def seed_scores(client: FlaskClient, collector: dict[str, str], clock: FrozenClock) -> None:
    """Submit three days of answers: 30, then 2 (too few), then 25; a rare touchpoint too."""
    plan = [(30, "checkout"), (2, "checkout"), (25, "delivery")]
    for day, (count, touchpoint) in enumerate(plan):
        for i in range(count):
            answers = {"nps": (i * 7 + day) % 11, "csat": 1 + (i + day) % 5, "ces": 1 + i % 7}
            body = submission(answers=answers, touchpoint=touchpoint)
            assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
        clock.advance(days=1)
    for i in range(2):
        body = submission(answers={"nps": 3 + i, "csat": 2, "ces": 4}, touchpoint="kiosk")
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    clock.advance(days=1)
