"""A live server over the test instance and Debian's chromium driven by Playwright.

No `playwright install`: it downloads browsers, which CI's network does not allow.
`.ci/run` installs the `chromium` package with apt-get when it is missing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import make_server

from feedbackvault.app import Services
from tests.web.support import NEW_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's chromium; without it, fail saying how to install it (never skip)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's chromium at {CHROMIUM}: "
            "run `apt-get update && apt-get install -y chromium` (.ci/run does this)."
        )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free port of 127.0.0.1 in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def screenshots(pytestconfig: pytest.Config, backend: str) -> Path:
    """The folder of this run's screenshots (under pytest-playwright's --output)."""
    folder = Path(str(pytestconfig.getoption("output"))) / "screenshots" / backend
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def watched(page: Page) -> Iterator[Page]:
    """The page, failing the test on any console error (a CSP violation is one)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == []


def account_with_password(services: Services, email: str, role: str, name: str) -> None:
    """Create an account whose first password was already changed to NEW_PASSWORD."""
    one_time = services.accounts.create(email, role, name=name)
    account = services.accounts.login(email, one_time)
    services.accounts.change_password(account.id, one_time, NEW_PASSWORD)


def log_in(page: Page, base: str, email: str, password: str = NEW_PASSWORD) -> None:
    """Log in through the Dutch login page."""
    page.goto(f"{base}/console/login?lang=nl")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
