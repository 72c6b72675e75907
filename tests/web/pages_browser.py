"""A real browser on a real server for the page tests: Debian's chromium driven by Playwright.

No `playwright install`: it downloads browsers, which this network does not allow. A
missing chromium fails the tests with the command that installs it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("FEEDBACKVAULT_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(
    os.environ.get(
        "FEEDBACKVAULT_SCREENSHOTS",
        Path(__file__).resolve().parents[2] / "test-results" / "screenshots",
    )
)
# axe-core impacts that fail a page (WCAG 2.1 AA basics).
FAILING_IMPACTS = ("serious", "critical")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def require_chromium() -> Path:
    """Return the browser to drive, or fail saying how to install it."""
    assert CHROMIUM.exists(), (
        f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium) "
        "or point FEEDBACKVAULT_CHROMIUM at one; `playwright install` cannot download here"
    )
    return CHROMIUM


@contextmanager
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


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core in the page (injected, not served) and return serious or critical issues."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's CSP stays as strict as ever.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))",
        AXE_TAGS,
    )
    return [v for v in result if v["impact"] in FAILING_IMPACTS]


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under the test run's output and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
