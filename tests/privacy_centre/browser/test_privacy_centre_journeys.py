"""Respondents in a real browser: read a notice, withdraw, check a receipt, ask by e-mail."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from tests.privacy_centre.mail_sink import Sink, link_in
from tests.support import submission

EMAIL = "zoe@example.nl"
RESPONDENT = {"email": EMAIL, "name": "Zoë Çelik-Bakker", "customer_id": "C-2077"}


def _submit(web: FlaskClient, collector: dict[str, str]) -> dict[str, str]:
    answer = web.post(
        "/api/v1/responses",
        json=submission(respondent=RESPONDENT, locale="nl-NL"),
        headers=collector,
    )
    assert answer.status_code == 201
    receipt: dict[str, str] = answer.get_json()["receipt"]
    return receipt


def _fulfil(web: FlaskClient, officer: dict[str, str], request_id: str) -> None:
    answer = web.post(f"/api/v1/privacy/requests/{request_id}/fulfil", headers=officer)
    assert answer.status_code == 200


def _ask_and_confirm(page: Page, site: str, mail: Sink, kind_label: str, shots: Path) -> str:
    """Ask in Dutch, follow the e-mailed link, confirm; return the request number."""
    before = len(mail.to(EMAIL))
    page.goto(f"{site}/privacy/request?lang=nl")
    page.get_by_label("Uw e-mailadres").fill(EMAIL)
    page.get_by_label(kind_label).check()
    page.screenshot(path=str(shots / f"request-form-{kind_label[:6].lower()}.png"), full_page=True)
    page.get_by_role("button", name="Stuur mij de bevestigingslink").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in uw mailbox")
    page.screenshot(path=str(shots / "request-sent.png"), full_page=True)
    link = link_in(mail.wait_for(EMAIL, before + 1)[-1], "confirm")
    page.goto(link)
    page.screenshot(path=str(shots / f"confirm-{kind_label[:6].lower()}.png"), full_page=True)
    page.get_by_role("button", name="bevestigen").click()
    expect(page.locator("#confirmed")).to_have_text("Uw verzoek is bevestigd.")
    page.screenshot(path=str(shots / "confirmed.png"), full_page=True)
    number = page.get_by_text("Verzoeknummer:").inner_text()
    return number.split(":", 1)[1].strip()


def test_respondent_reads_the_dutch_notice_checks_the_receipt_and_withdraws(
    watched: Page, site: str, web: FlaskClient, collector: dict[str, str], screenshots: Path
) -> None:
    page = watched
    receipt = _submit(web, collector)
    page.goto(f"{site}/privacy?lang=nl")
    expect(page.get_by_text("180 dagen")).to_be_visible()
    page.screenshot(path=str(screenshots / "privacy-nl.png"), full_page=True)
    purpose = page.get_by_role("article", name="Uw feedback voor betere service")
    purpose.get_by_role("link", name="Versie 2026-01").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw feedback voor betere service")
    expect(page.locator("#notice-sha256")).to_have_text(receipt["notice_sha256"])
    page.screenshot(path=str(screenshots / "notice-nl.png"), full_page=True)

    page.get_by_role("link", name="Ontvangstbewijs controleren").click()
    page.get_by_label("Uw ontvangstbewijs (JSON)").fill(json.dumps(receipt, indent=2))
    page.get_by_role("button", name="Controleren").click()
    expect(page.locator("#verdict")).to_contain_text("Geldig")
    page.screenshot(path=str(screenshots / "receipt-valid-nl.png"), full_page=True)
    page.get_by_role("link", name="Lees de privacyverklaring die u te zien kreeg").click()
    expect(page.locator("#notice-sha256")).to_have_text(receipt["notice_sha256"])

    page.get_by_role("link", name="Toestemming intrekken").first.click()
    page.get_by_label("Nummer van het ontvangstbewijs").fill(receipt["receipt_id"])
    page.get_by_label("Intrekcode").fill(receipt["withdraw_token"])
    page.screenshot(path=str(screenshots / "withdraw-nl.png"), full_page=True)
    page.get_by_role("button", name="Toestemming intrekken").click()
    expect(page.locator("#erased-count")).to_have_text("1 reactie is gewist.")
    page.screenshot(path=str(screenshots / "withdrawn-nl.png"), full_page=True)


def test_respondent_asks_for_access_by_email_and_downloads_the_export(
    watched: Page,
    site: str,
    web: FlaskClient,
    mail: Sink,
    collector: dict[str, str],
    officer: dict[str, str],
    screenshots: Path,
) -> None:
    page = watched
    _submit(web, collector)
    request_id = _ask_and_confirm(
        page, site, mail, "Inzage: een kopie van alle gegevens over u", screenshots
    )
    _fulfil(web, officer, request_id)
    page.goto(link_in(mail.wait_for(EMAIL, 2)[-1], "export"))
    page.screenshot(path=str(screenshots / "export-nl.png"), full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Mijn gegevens downloaden").click()
    download = download_info.value
    assert download.suggested_filename == "my-data.json"
    export = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert [r["respondent"]["name"] for r in export["responses"]] == [RESPONDENT["name"]]
    page.reload()
    expect(page.locator("#link-reason")).to_contain_text("al gebruikt")
    page.screenshot(path=str(screenshots / "export-used-nl.png"), full_page=True)


def test_erasure_by_email_leaves_the_respondent_unknown_to_a_later_access_request(
    watched: Page,
    site: str,
    web: FlaskClient,
    mail: Sink,
    collector: dict[str, str],
    officer: dict[str, str],
    screenshots: Path,
) -> None:
    page = watched
    _submit(web, collector)
    erasure = _ask_and_confirm(
        page, site, mail, "Verwijdering: alle gegevens over u wissen", screenshots
    )
    _fulfil(web, officer, erasure)
    assert "gewist" in mail.wait_for(EMAIL, 2)[-1].get_body().get_content()  # type: ignore[union-attr]
    access = _ask_and_confirm(
        page, site, mail, "Inzage: een kopie van alle gegevens over u", screenshots
    )
    _fulfil(web, officer, access)
    page.goto(link_in(mail.wait_for(EMAIL, 4)[-1], "export"))
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Mijn gegevens downloaden").click()
    export = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    assert export["responses"] == [] and export["consents"] == []
