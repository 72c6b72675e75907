"""Journeys in a real browser: an officer's access and erasure requests, an auditor's look."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from feedbackvault.app import Services
from tests.support import submission
from tests.web.browser.conftest import account_with_password, log_in
from tests.web.support import NEW_PASSWORD

OFFICER = "fg@voorbeeld.nl"
NAME = "Zoë Çelik-Bakker"
COMMENT = "Prima; snel geholpen, één keer gebeld"


def _request(client: FlaskClient, officer: dict[str, str], kind: str) -> str:
    answer = client.post(
        "/api/v1/privacy/requests",
        json={"kind": kind, "subject": {"email": "an@example.nl"}},
        headers=officer,
    )
    assert answer.status_code == 201
    return str(answer.get_json()["id"])


def _submit(client: FlaskClient, collector: dict[str, str]) -> None:
    body = submission(
        respondent={"email": "an@example.nl", "name": NAME},
        answers={"nps": 4, "comment": COMMENT},
    )
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201


def test_officer_fulfils_an_access_request_and_opens_the_csv_zip(
    watched: Page, live_server: str, services: Services, client: FlaskClient,
    officer: dict[str, str], collector: dict[str, str], screenshots: Path,
) -> None:  # fmt: skip
    page = watched
    one_time = services.accounts.create(OFFICER, "privacy_officer", name="Fenna de Groot")
    _submit(client, collector)
    request_id = _request(client, officer, "access")

    log_in(page, live_server, OFFICER, one_time)
    page.screenshot(path=screenshots / "01-password-first-login.png", full_page=True)
    expect(page.get_by_role("heading", name="Wachtwoord wijzigen")).to_be_visible()
    page.get_by_label("Huidig wachtwoord", exact=True).fill(one_time)
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nieuw wachtwoord nogmaals", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Nieuw wachtwoord opslaan").click()

    expect(page.get_by_text("Uw wachtwoord is gewijzigd.")).to_be_visible()
    row = page.locator("tr", has=page.locator(f'a[href="/console/requests/{request_id}"]'))
    expect(row).to_contain_text("Inzage")
    expect(row).to_contain_text("nog 30 dagen")
    expect(row).to_contain_text("API")
    page.screenshot(path=screenshots / "02-queue.png", full_page=True)

    row.get_by_role("link").click()
    page.get_by_label("Hoe is de identiteit gecontroleerd?").fill(
        "Antwoord vanaf het bekende e-mailadres"
    )
    page.get_by_role("button", name="Markeren als geverifieerd").click()
    expect(page.get_by_text("Verzoek geverifieerd.")).to_be_visible()
    page.get_by_role("button", name="Uitvoeren: export maken").click()
    expect(page.get_by_text("Verzoek uitgevoerd")).to_be_visible()
    page.screenshot(path=screenshots / "03-access-fulfilled.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV downloaden (zip, opent in Excel)").click()
    archive = zipfile.ZipFile(download.value.path())
    raw = archive.read("responses.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert ";" in header and "," not in header
    [record] = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")
    assert (record["name"], record["comment"]) == (NAME, COMMENT)


def test_officer_erases_a_subject_and_prints_the_certificate(
    watched: Page, live_server: str, services: Services, client: FlaskClient,
    officer: dict[str, str], collector: dict[str, str], screenshots: Path,
) -> None:  # fmt: skip
    page = watched
    account_with_password(services, OFFICER, "privacy_officer", "Fenna de Groot")
    _submit(client, collector)
    request_id = _request(client, officer, "erasure")

    log_in(page, live_server, OFFICER)
    page.goto(f"{live_server}/console/requests/{request_id}")
    page.get_by_label("Hoe is de identiteit gecontroleerd?").fill(
        "Identiteit gecontroleerd aan de balie"
    )
    page.get_by_role("button", name="Markeren als geverifieerd").click()
    page.screenshot(path=screenshots / "04-erasure-verified.png", full_page=True)
    page.get_by_role("link", name="Uitvoeren: verwijderen…").click()

    expect(
        page.get_by_role("heading", name="Gegevens van deze betrokkene verwijderen?")
    ).to_be_visible()
    expect(page.locator(".destroy")).to_contain_text("1 reactie")
    expect(page.locator(".destroy")).to_contain_text("1 toestemming")
    page.screenshot(path=screenshots / "05-erasure-confirm.png", full_page=True)
    assert services.subject_rights.get(request_id).status == "verified"
    page.get_by_role("button", name="Definitief verwijderen").click()

    expect(page.get_by_text("Verwijdering uitgevoerd")).to_be_visible()
    page.get_by_role("link", name="Afdrukbare verklaring bekijken").click()
    expect(page.get_by_role("heading", name="Verklaring van verwijdering")).to_be_visible()
    certificate = services.subject_rights.get(request_id).result
    assert certificate is not None
    expect(page.locator(".certificate")).to_contain_text(certificate["audit_hash"])
    page.screenshot(path=screenshots / "06-certificate.png", full_page=True)
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()


def test_an_auditor_can_look_but_not_change_anything(
    watched: Page, live_server: str, services: Services, client: FlaskClient,
    officer: dict[str, str], screenshots: Path,
) -> None:  # fmt: skip
    page = watched
    account_with_password(services, "audit@voorbeeld.nl", "auditor", "Arend Auditor")
    request_id = _request(client, officer, "access")

    log_in(page, live_server, "audit@voorbeeld.nl")
    expect(page.get_by_role("heading", name="Verzoeken van betrokkenen")).to_be_visible()
    expect(page.get_by_text("Nieuw verzoek")).to_have_count(0)
    page.goto(f"{live_server}/console/requests/{request_id}")
    expect(page.locator('form[method="post"]')).to_have_count(0)
    expect(page.get_by_role("button")).to_have_count(0)
    page.screenshot(path=screenshots / "07-auditor-request.png", full_page=True)

    # Even a hand-made POST, with a valid CSRF token of the auditor's session, is refused.
    page.goto(f"{live_server}/console/account")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    answer = page.request.post(
        f"{live_server}/console/requests/{request_id}/verify",
        form={"csrf_token": token or "", "method": "forged"},
        max_redirects=0,
    )
    assert answer.status == 403
    assert services.subject_rights.get(request_id).status == "received"


def test_the_queue_fits_a_phone_without_scrolling_the_page_sideways(
    watched: Page, live_server: str, services: Services, client: FlaskClient,
    officer: dict[str, str], screenshots: Path,
) -> None:  # fmt: skip
    page = watched
    account_with_password(services, OFFICER, "privacy_officer", "Fenna de Groot")
    for kind in ("access", "erasure", "rectification"):
        _request(client, officer, kind)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, OFFICER)
    expect(page.get_by_role("heading", name="Verzoeken van betrokkenen")).to_be_visible()
    page.screenshot(path=screenshots / "08-queue-phone.png", full_page=True)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]
    page.goto(f"{live_server}/console/account?lang=en")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert re.search(r"\d{1,2} \w{3} \d{4}", page.locator("ul.plain").inner_text())
    page.screenshot(path=screenshots / "09-account-phone-en.png", full_page=True)


def test_filtering_the_queue_swaps_the_table_in_place_and_keeps_the_address(
    watched: Page, live_server: str, services: Services, client: FlaskClient,
    officer: dict[str, str],
) -> None:  # fmt: skip
    page = watched
    account_with_password(services, OFFICER, "privacy_officer", "Fenna de Groot")
    access = _request(client, officer, "access")
    erasure = _request(client, officer, "erasure")
    log_in(page, live_server, OFFICER)
    expect(page.locator(f'a[href="/console/requests/{access}"]')).to_be_visible()
    page.locator("form.filters select[name=kind]").select_option("erasure")
    expect(page.locator(f'a[href="/console/requests/{access}"]')).to_have_count(0)
    expect(page.locator(f'a[href="/console/requests/{erasure}"]')).to_be_visible()
    expect(page).to_have_url(re.compile(r"kind=erasure"))
