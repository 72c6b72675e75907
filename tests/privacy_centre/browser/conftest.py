"""A live privacy centre over the test instance, driven by Debian's chromium (Playwright).

No `playwright install`: it downloads browsers, which CI's network does not allow.
`.ci/run` installs the `chromium` package with apt-get when it is missing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import make_server

from feedbackvault.app import Services

CHROMIUM = Path(os.environ.get("FEEDBACKVAULT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"]
AXE = Path(__file__).resolve().parents[2] / "web" / "vendor" / "axe-core" / "axe.min.js"
# axe-core impacts that fail a page (WCAG 2.1 AA).
FAILING_IMPACTS = ("serious", "critical")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


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
def site(centre_app: Flask, centre_services: Services) -> Iterator[str]:
    """Serve the privacy centre on a free port of 127.0.0.1; e-mailed links point at it."""
    server = make_server("127.0.0.1", 0, centre_app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    centre_services.privacy_centre.public_url = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def screenshots(pytestconfig: pytest.Config, backend: str) -> Path:
    """The folder of this run's screenshots (under pytest-playwright's --output)."""
    output = Path(str(pytestconfig.getoption("output")))
    folder = output / "screenshots" / "privacy-centre" / backend
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def watched(page: Page) -> Iterator[Page]:
    """The page, failing the test on any console error (a CSP violation is one)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    # A 4xx page (422 form errors, 404, 410) logs its own status as a console error;
    # those statuses are asserted where they are shown.
    own_status = "Failed to load resource: the server responded with a status of 4"
    unexpected = [e for e in errors if not e.startswith(own_status)]
    assert unexpected == [], unexpected


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core in the page (injected, not served) and return serious or critical issues."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's CSP stays as strict as ever.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))",
        AXE_TAGS,
    )
    return [v for v in result if v["impact"] in FAILING_IMPACTS]
