"""The request queue and a request's page: order, badges, acts, downloads."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from feedbackvault.domain.deadlines import deadline
from tests.support import START, FrozenClock, submission
from tests.web.support import csrf_token, post_form, text_of

API = "/api/v1/privacy/requests"


def _create(client: FlaskClient, officer: dict[str, str], kind: str, email: str) -> str:
    answer = client.post(API, json={"kind": kind, "subject": {"email": email}}, headers=officer)
    assert answer.status_code == 201
    return str(answer.get_json()["id"])


def _act(browser: FlaskClient, request_id: str, act: str, data: dict[str, str]) -> str:
    page = f"/console/requests/{request_id}"
    answer = post_form(browser, f"{page}/{act}", data, page=page + "?lang=en")
    assert answer.status_code == 302, text_of(answer)
    return text_of(browser.get(page + "?lang=en"))


@pytest.mark.parametrize(
    ("days", "word", "colour"),
    [(20, "20 days left", "green"), (14, "14 days left", "amber"), (3, "3 days left", "amber"),
     (2, "2 days left", "red"), (-1, "overdue by 1 day", "red")],
)  # fmt: skip
def test_days_left_badge_has_a_word_and_a_colour(days: int, word: str, colour: str) -> None:
    from datetime import timedelta

    left = deadline(START + timedelta(days=days), START)
    assert left.urgency == colour
    assert left.days == days


def test_queue_lists_overdue_first_then_fewest_days_left(
    client: FlaskClient, officer: dict[str, str], person: Callable[..., FlaskClient],
    clock: FrozenClock,
) -> None:  # fmt: skip
    oldest = _create(client, officer, "access", "a@example.nl")
    clock.advance(days=20)
    middle = _create(client, officer, "erasure", "b@example.nl")
    clock.advance(days=15)  # 35 days on: the oldest is overdue by 5 days
    newest = _create(client, officer, "access", "c@example.nl")
    done = _create(client, officer, "access", "d@example.nl")
    client.post(f"{API}/{done}/reject", json={"reason": "duplicate"}, headers=officer)
    browser = person("privacy_officer")
    html = browser.get("/console/requests?lang=en").get_data(as_text=True)
    order = re.findall(r'/console/requests/([0-9a-f-]{36})"', html)
    assert order == [oldest, middle, newest, done]
    text = text_of(browser.get("/console/requests?lang=en"))
    assert "overdue by 5 days" in text and "16 days left" in text and "31 days left" in text
    assert re.search(r"1 Overdue .*3 Received .*0 Verified .*0 Completed .*1 Rejected", text)


def test_queue_filters_by_status_and_kind(
    client: FlaskClient, officer: dict[str, str], person: Callable[..., FlaskClient]
) -> None:
    access = _create(client, officer, "access", "a@example.nl")
    erasure = _create(client, officer, "erasure", "b@example.nl")
    client.post(f"{API}/{erasure}/verify", json={"method": "reply"}, headers=officer)
    browser = person("auditor")
    by_kind = browser.get("/console/requests?kind=erasure").get_data(as_text=True)
    assert erasure in by_kind and access not in by_kind
    by_status = browser.get("/console/requests?status=received").get_data(as_text=True)
    assert access in by_status and erasure not in by_status
    assert browser.get("/console/requests?status=bogus").status_code == 400
    assert browser.get("/console/requests?page=x").status_code == 400


def test_an_empty_queue_teaches_how_requests_arrive(person: Callable[..., FlaskClient]) -> None:
    text = text_of(person("privacy_officer").get("/console/requests?lang=nl"))
    assert "Nog geen verzoeken" in text
    assert "privacycentrum" in text and "API" in text and "Nieuw verzoek" in text


def test_an_officer_records_a_request_and_its_channel_is_the_console(
    person: Callable[..., FlaskClient], services: Services
) -> None:
    browser = person("privacy_officer")
    answer = post_form(
        browser, "/console/requests",
        {"kind": "erasure", "email": "An@Example.nl", "customer_id": "", "note": "per brief"},
        page="/console/requests",
    )  # fmt: skip
    assert answer.status_code == 302
    [state] = services.subject_rights.queue(None, None, 10)
    assert (state.kind, state.status) == ("erasure", "received")
    assert "Console" in text_of(browser.get("/console/requests?lang=en"))


def test_a_request_without_identifier_is_refused_next_to_the_field(
    person: Callable[..., FlaskClient], services: Services
) -> None:
    browser = person("privacy_officer")
    token = csrf_token(browser, "/console/requests")
    refused = browser.post(
        "/console/requests?lang=nl", data={"csrf_token": token, "kind": "access", "email": ""}
    )
    assert refused.status_code == 400
    assert "Geef een e-mailadres of een klantnummer." in text_of(refused)
    assert services.subject_rights.counts() == {"overdue": 0}


def test_verify_extend_once_and_reject_show_in_the_timeline(
    client: FlaskClient, officer: dict[str, str], person: Callable[..., FlaskClient],
    services: Services,
) -> None:  # fmt: skip
    request_id = _create(client, officer, "access", "an@example.nl")
    browser = person("privacy_officer")
    text = _act(browser, request_id, "verify", {"method": "Reply from the known address"})
    assert "Request verified." in text
    text = _act(browser, request_id, "extend", {"extend-reason": "Many systems to search"})
    assert "Deadline extended by two months." in text
    state = services.subject_rights.get(request_id)
    assert state.due_at.month == (state.received_at.month + 2) % 12 + 1
    assert "Extend the deadline" not in text  # once only
    again = _act(browser, request_id, "extend", {"extend-reason": "Again"})
    assert "not possible in the request's current state" in again
    text = _act(browser, request_id, "reject", {"reject-reason": "Manifestly unfounded"})
    assert "Request rejected." in text
    for step in ("Received", "Identity verified", "Deadline extended", "Rejected"):
        assert step in text
    assert "account:privacy_officer@voorbeeld.nl" in text


def test_an_erasure_asks_once_with_counts_then_gives_its_certificate(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str],
    person: Callable[..., FlaskClient], services: Services,
) -> None:  # fmt: skip
    for nps in (3, 9):
        body = submission(answers={"nps": nps})
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    request_id = _create(client, officer, "erasure", "an@example.nl")
    browser = person("privacy_officer")
    _act(browser, request_id, "verify", {"method": "ID at the desk"})
    # A bare POST (no confirmation) only leads to the confirmation page.
    bare = post_form(browser, f"/console/requests/{request_id}/fulfil", {},
                     page=f"/console/requests/{request_id}")  # fmt: skip
    assert bare.location == f"/console/requests/{request_id}/erase"
    assert services.subject_rights.get(request_id).status == "verified"
    preview = text_of(browser.get(f"/console/requests/{request_id}/erase?lang=en"))
    assert "2 responses" in preview and "2 consent records" in preview
    assert "cannot be undone" in preview
    text = _act(browser, request_id, "fulfil", {"confirm": "yes"})
    assert "Erasure carried out" in text
    certificate = browser.get(f"/console/requests/{request_id}/certificate.json")
    body = json.loads(certificate.get_data())
    assert body["request_id"] == request_id and body["responses_erased"] == 2
    assert "attachment" in certificate.headers["Content-Disposition"]
    printable = text_of(browser.get(f"/console/requests/{request_id}/certificate?lang=nl"))
    assert "Verklaring van verwijdering" in printable and body["audit_hash"] in printable


def test_access_export_downloads_as_a_zip_dutch_excel_opens(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str],
    person: Callable[..., FlaskClient],
) -> None:  # fmt: skip
    body = submission(
        respondent={"email": "an@example.nl", "name": "Zoë Çelik-Bakker"},
        answers={"nps": 9, "comment": "Prima; snel geholpen, één keer gebeld"},
    )
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    request_id = _create(client, officer, "access", "an@example.nl")
    browser = person("privacy_officer")
    _act(browser, request_id, "verify", {"method": "reply"})
    _act(browser, request_id, "fulfil", {})
    download = browser.get(f"/console/requests/{request_id}/export.zip")
    assert download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.get_data()))
    raw = archive.read("responses.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    [row] = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")
    assert row["name"] == "Zoë Çelik-Bakker"
    assert row["comment"] == "Prima; snel geholpen, één keer gebeld"
    purposes = archive.read("purposes.csv").decode("utf-8-sig")
    [purpose] = csv.DictReader(io.StringIO(purposes), delimiter=";")
    assert purpose["aggregate"] in ("true", "false")
    as_json = browser.get(f"/console/requests/{request_id}/export.json")
    assert (
        json.loads(as_json.get_data())["responses"][0]["respondent"]["name"] == "Zoë Çelik-Bakker"
    )
