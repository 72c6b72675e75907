"""Fixtures of the web console: an instance with a session secret, people logged in."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedbackvault.app import Services
from feedbackvault.settings import Settings
from tests.web.support import NEW_PASSWORD, change_password, login


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared instance's settings, with the session secret `feedbackvault init` writes."""
    settings.secret_key_file.write_text(secrets.token_urlsafe(48), encoding="ascii")
    settings.secret_key_file.chmod(0o600)
    return Settings.from_env(settings.environ)


@pytest.fixture
def person(app: Flask, services: Services) -> Callable[..., FlaskClient]:
    """Make a logged-in browser (test client) for a new account of a role."""

    def make(role: str, email: str | None = None) -> FlaskClient:
        email = email or f"{role}@voorbeeld.nl"
        one_time = services.accounts.create(email, role, name=role.replace("_", " ").title())
        client = app.test_client()
        assert login(client, email, one_time).status_code == 302
        assert change_password(client, one_time, NEW_PASSWORD).status_code == 302
        return client

    return make
