"""In a real browser: a follow-up person opens the unhappiest respondent and closes the loop."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from feedbackvault.app import Services
from feedbackvault.storage.data_models import FOLLOW_UP
from tests.follow_up.support import follow_up_body, submit
from tests.support import FrozenClock
from tests.web.browser.conftest import account_with_password, log_in

STAFF = "opvolging@voorbeeld.nl"
NOTE = "Teruggebeld; excuses aangeboden en vervangend product gestuurd."


def test_follow_up_person_opens_a_detractor_and_marks_it_done_with_a_note(
    watched: Page, live_server: str, services: Services, client: FlaskClient,
    collector: dict[str, str], clock: FrozenClock, screenshots: Path,
) -> None:  # fmt: skip
    page = watched
    unhappy = submit(client, collector, follow_up_body(email="boos@example.nl", csat=1, ces=2))
    clock.advance(minutes=5)
    submit(client, collector, follow_up_body(email="blij@example.nl", csat=5, ces=7))
    account_with_password(services, STAFF, "follow_up", "Sam Jansen")

    log_in(page, live_server, STAFF)
    expect(page.get_by_role("heading", name="Opvolging")).to_be_visible()
    rows = page.locator("table.follow-up tbody tr")
    expect(rows).to_have_count(2)
    # Unhappy first, although the happy respondent answered later.
    expect(rows.first).to_contain_text("boos@example.nl")
    expect(rows.first).to_contain_text("Niemand belde terug.")
    page.screenshot(path=screenshots / "follow-up-01-queue.png", full_page=True)

    rows.first.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", name="Contact")).to_be_visible()
    expect(page.get_by_role("link", name="boos@example.nl")).to_be_visible()
    page.get_by_label("Wat heeft u gedaan? (notitie)").fill(NOTE)
    page.screenshot(path=screenshots / "follow-up-02-item.png", full_page=True)
    page.get_by_role("button", name="Markeren als afgehandeld").click()

    expect(page.get_by_text("Gemarkeerd als afgehandeld.")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("blij@example.nl")
    page.screenshot(path=screenshots / "follow-up-03-done.png", full_page=True)

    page.get_by_label("Status").select_option("done")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="Bekijken").click()
    expect(page.get_by_text(NOTE)).to_be_visible()
    expect(page.get_by_text(f"account:{STAFF}")).to_be_visible()
    page.screenshot(path=screenshots / "follow-up-04-handled.png", full_page=True)

    with services.stores.read() as unit:
        [row] = unit.session.execute(select(FOLLOW_UP)).all()
    assert row.response_id == unhappy["response_id"]
    assert NOTE.encode() not in bytes(row.note_ct)
