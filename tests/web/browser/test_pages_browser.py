"""In a real browser: the analyst's chart, and axe-core on every console page in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page

from feedbackvault.app import Services
from tests.support import FrozenClock
from tests.web.axe import axe_violations
from tests.web.pages_support import seed_scores
from tests.web.support import NEW_PASSWORD

SCORES = (
    "/console/scores?survey=checkout-2026-q4&metric=nps&period=day&from=2026-11-21&to=2026-11-27"
)


class Visitor:
    """One person's browser tab, recording every CSP violation and failed load."""

    def __init__(self, page: Page, base_url: str, screenshots: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.screenshots = screenshots
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _console(self, message: Any) -> None:
        # Failed loads are reported with their address by _response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(message.text)

    def _failed(self, request: Any) -> None:
        # Going on to the next page cancels loads still under way (the favicon): not a fault.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"failed: {request.url} ({request.failure})")

    def _response(self, response: Any) -> None:
        # Browsers ask for /favicon.ico on their own (no page links it); a page's own
        # status is the test's to check.
        if (
            response.status >= 400
            and not response.url.endswith("/favicon.ico")
            and response.request.resource_type != "document"
        ):
            self.problems.append(f"{response.status}: {response.url}")

    def screenshot(self, name: str) -> None:
        """Save a full-page screenshot under the run's output."""
        self.page.screenshot(path=str(self.screenshots / f"page-{name}.png"), full_page=True)

    def open(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page

    def log_in(self, email: str, password: str, lang: str) -> None:
        page = self.open(f"/console/login?lang={lang}")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.fill("input[name=current_password]", password)
        page.fill("input[name=new_password]", NEW_PASSWORD)
        page.fill("input[name=confirm]", NEW_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()


@pytest.fixture
def visitor(
    browser: Browser, live_server: str, screenshots: Path, request: pytest.FixtureRequest
) -> Iterator[Visitor]:
    # The browser speaks the language of the test, as a Dutch or English reader's would.
    lang = getattr(request.node, "callspec", None) and request.node.callspec.params.get("lang")
    locale = "en-GB" if lang == "en" else "nl-NL"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    yield Visitor(context.new_page(), live_server, screenshots)
    context.close()


def person(visitor: Visitor, services: Services, role: str, lang: str) -> Visitor:
    email = f"{role}@voorbeeld.nl"
    one_time = services.accounts.create(email, role, name=role.replace("_", " ").title())
    visitor.log_in(email, one_time, lang)
    return visitor


@pytest.mark.parametrize(
    ("lang", "too_few", "title"),
    [("nl", "te weinig reacties", "NPS per dag"), ("en", "too few responses", "NPS per day")],
)
def test_an_analyst_sees_a_chart_with_bands_and_a_suppressed_group(
    visitor: Visitor,
    services: Services,
    client: FlaskClient,
    collector: dict[str, str],
    clock: FrozenClock,
    lang: str,
    too_few: str,
    title: str,
) -> None:
    seed_scores(client, collector, clock)
    person(visitor, services, "analyst", lang)
    page = visitor.open(f"{SCORES}&lang={lang}")
    chart = page.locator("svg#time-chart")
    assert title in (chart.locator("title").first.text_content() or "")
    assert chart.locator(".chart-band").count() >= 1
    assert chart.locator(".chart-point").count() >= 1
    assert chart.locator(".chart-gap").filter(has_text=too_few).count() >= 1
    assert chart.bounding_box()["height"] > 150  # type: ignore[index]
    assert page.locator("table").filter(has_text=too_few).count() >= 1
    visitor.screenshot(f"scores-{lang}")
    assert axe_violations(page) == []
    assert visitor.problems == []


@pytest.fixture
def officer_pages(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> list[str]:
    """Make a request and some audit entries, and list the officer's pages to check."""
    from tests.support import submission

    client.post("/api/v1/responses", json=submission(), headers=collector)
    created = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "access", "subject": {"email": "an@example.nl"}},
        headers=officer,
    ).get_json()
    return [
        "/console/requests",
        f"/console/requests/{created['id']}",
        "/console/audit",
        "/console/audit/verify",
        "/console/audit?action=no.such.action",
        "/console/register",
        "/console/purposes",
        "/console/account",
    ]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_officer_page_passes_axe_in_both_languages(
    visitor: Visitor, services: Services, officer_pages: list[str], lang: str
) -> None:
    person(visitor, services, "privacy_officer", lang)
    failures = {}
    for path in officer_pages:
        page = visitor.open(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        name = path.strip("/").split("?")[0].replace("/", "-")
        if name.startswith("console-requests-"):
            name = "console-request"
        if "?" in path:
            name += "-filtered"
        visitor.screenshot(f"{name}-{lang}")
        violations = axe_violations(page)
        if violations:
            failures[path] = violations
    assert failures == {}
    assert visitor.problems == []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_analysts_empty_page_the_login_and_a_404_pass_axe(
    visitor: Visitor, services: Services, lang: str
) -> None:
    page = visitor.open(f"/console/login?lang={lang}")
    assert axe_violations(page) == []
    page = visitor.open(f"/console/no-such-page?lang={lang}")
    assert axe_violations(page) == []
    person(visitor, services, "analyst", lang)
    page = visitor.open(f"/console/scores?lang={lang}")
    visitor.screenshot(f"scores-empty-{lang}")
    assert axe_violations(page) == []


def test_the_api_docs_work_offline_under_their_csp(visitor: Visitor) -> None:
    requested: list[str] = []
    visitor.page.on("request", lambda request: requested.append(request.url))
    page = visitor.open("/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 10
    assert all(url.startswith(visitor.base_url) or url.startswith("data:") for url in requested)
    assert visitor.problems == []
    visitor.screenshot("docs")
