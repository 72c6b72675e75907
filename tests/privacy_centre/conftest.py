"""Fixtures: the app with a session secret, a public address and a real SMTP sink."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings
from tests.privacy_centre.mail_sink import Sink, start_sink
from tests.support import FrozenClock

SECRET = "s" * 48
PUBLIC_URL = "http://privacy.test"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def centre(
    settings: Settings, clock: FrozenClock, request: pytest.FixtureRequest
) -> Iterator[tuple[Services, Sink]]:
    """The services of a privacy centre whose mail goes to a fresh SMTP sink."""
    controller, kept = start_sink()
    configured = replace(
        settings,
        secret_key=SECRET,
        smtp_url=f"smtp://127.0.0.1:{controller.port}",
        public_url=PUBLIC_URL,
    )
    built = Services.build(configured, clock=clock)
    yield built, kept
    built.databases.dispose()
    controller.stop()


@pytest.fixture
def centre_services(centre: tuple[Services, Sink]) -> Services:
    """The privacy centre's services."""
    return centre[0]


@pytest.fixture
def mail(centre: tuple[Services, Sink]) -> Sink:
    """The SMTP sink the privacy centre sends to."""
    return centre[1]


@pytest.fixture
def centre_app(centre_services: Services) -> Flask:
    """The app of the privacy centre."""
    return create_app(services=centre_services)


@pytest.fixture
def web(centre_app: Flask) -> FlaskClient:
    """A test client of the privacy centre."""
    return centre_app.test_client()


def csrf_of(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match[1]


def without_csrf(html: str) -> str:
    """Blank the page's CSRF tokens (signed with a timestamp, so they differ per second)."""
    return CSRF.sub('name="csrf_token" type="hidden" value=""', html)
