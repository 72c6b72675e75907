"""axe-core on every privacy-centre page and state, in Dutch and English: nothing serious."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Page

from tests.privacy_centre.browser.conftest import axe_violations
from tests.privacy_centre.flows import ask, confirmed_request, fulfil, path_of
from tests.privacy_centre.mail_sink import Sink, link_in
from tests.support import submission

EMAIL = "an@example.nl"


def _checked(page: Page, name: str, shots: Path) -> tuple[str, list[object]]:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    return name, axe_violations(page)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_page_has_no_serious_or_critical_violation(
    watched: Page,
    site: str,
    web: FlaskClient,
    mail: Sink,
    collector: dict[str, str],
    officer: dict[str, str],
    screenshots: Path,
    lang: str,
) -> None:
    page = watched
    receipt = web.post("/api/v1/responses", json=submission(), headers=collector).get_json()[
        "receipt"
    ]
    fulfil(web, officer, confirmed_request(web, mail, EMAIL, "access"))
    export_link = link_in(mail.wait_for(EMAIL, 2)[-1], "export")
    ask(web, EMAIL, "erasure")
    confirm_link = link_in(mail.wait_for(EMAIL, 3)[-1], "confirm")
    shots = screenshots / lang
    shots.mkdir(exist_ok=True)
    results = []
    for name, path in [
        ("privacy", "/privacy"),
        ("notice", "/privacy/notices/service-improvement/2026-01"),
        ("notice-research", "/privacy/notices/product-research/2026-01"),
        ("withdraw", "/privacy/withdraw"),
        ("receipt", "/privacy/receipt"),
        ("request", "/privacy/request"),
        ("request-sent", "/privacy/request/sent"),
        ("export", path_of(export_link)),
        ("confirm", path_of(confirm_link)),
        ("link-unknown", "/privacy/confirm/not-a-link"),
        ("notice-missing", "/privacy/notices/nothing/here"),
    ]:
        page.goto(f"{site}{path}?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        results.append(_checked(page, name, shots))

    page.goto(f"{site}/privacy/request?lang={lang}")
    page.locator("button[type=submit]").click()
    results.append(_checked(page, "request-errors", shots))
    page.goto(f"{site}/privacy/receipt?lang={lang}")
    page.locator("textarea").fill("not a receipt")
    page.locator("button[type=submit]").click()
    results.append(_checked(page, "receipt-unreadable", shots))
    page.locator("textarea").fill(json.dumps(receipt))
    page.locator("button[type=submit]").click()
    results.append(_checked(page, "receipt-valid", shots))
    page.goto(f"{site}/privacy/withdraw?lang={lang}")
    page.locator("#receipt_id").fill(receipt["receipt_id"])
    page.locator("#withdraw_token").fill("wrong")
    page.locator("button[type=submit]").click()
    results.append(_checked(page, "withdraw-errors", shots))
    page.locator("#withdraw_token").fill(receipt["withdraw_token"])
    page.locator("button[type=submit]").click()
    results.append(_checked(page, "withdrawn", shots))
    page.goto(f"{site}{path_of(confirm_link)}?lang={lang}")
    page.locator("button[type=submit]").click()
    results.append(_checked(page, "confirmed", shots))
    page.goto(f"{site}{path_of(confirm_link)}?lang={lang}")
    results.append(_checked(page, "link-used", shots))

    failing = {name: found for name, found in results if found}
    assert failing == {}
    assert len(results) == 18


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_pages_fit_a_phone_without_sideways_scrolling(
    watched: Page, site: str, screenshots: Path, lang: str
) -> None:
    page = watched
    page.set_viewport_size({"width": 375, "height": 740})
    shots = screenshots / f"phone-{lang}"
    shots.mkdir(exist_ok=True)
    too_wide = []
    for name, path in [
        ("privacy", "/privacy"),
        ("notice", "/privacy/notices/service-improvement/2026-01"),
        ("withdraw", "/privacy/withdraw"),
        ("receipt", "/privacy/receipt"),
        ("request", "/privacy/request"),
    ]:
        page.goto(f"{site}{path}?lang={lang}")
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
            too_wide.append(name)
    assert too_wide == []
