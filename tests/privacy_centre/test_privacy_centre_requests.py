"""Self-service access and erasure requests confirmed by e-mailed, single-use links."""

from __future__ import annotations

import json
import logging
import statistics
import time
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text

from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings
from tests.privacy_centre.conftest import SECRET, csrf_of, without_csrf
from tests.privacy_centre.flows import ask, confirmed_request, follow, fulfil, path_of
from tests.privacy_centre.mail_sink import Sink, body_of, link_in
from tests.support import FrozenClock, stored_bytes, submission

KNOWN = "an@example.nl"


def _respond(web: FlaskClient, collector: dict[str, str], email: str = KNOWN) -> None:
    respondent = {"email": email, "name": "An de Vries", "customer_id": "C-1042"}
    answer = web.post(
        "/api/v1/responses", json=submission(respondent=respondent), headers=collector
    )
    assert answer.status_code == 201


def _count_statements(services: Services) -> list[int]:
    counter = [0]

    def count(*_: object) -> None:
        counter[0] += 1

    for engine in (services.databases.data_engine, services.databases.keys_engine):
        event.listen(engine, "before_cursor_execute", count)
    return counter


def test_known_and_unknown_addresses_get_the_same_page_mail_and_work(
    web: FlaskClient, mail: Sink, centre_services: Services, collector: dict[str, str]
) -> None:
    _respond(web, collector)
    counter = _count_statements(centre_services)
    seen = {}
    for email in (KNOWN, "nobody@example.nl"):
        before = counter[0]
        posted = ask(web, email)
        sent = web.get(posted.headers["Location"])
        seen[email] = (
            posted.status_code,
            posted.headers["Location"],
            without_csrf(sent.get_data(as_text=True)),
            counter[0] - before,
            [m["Subject"] for m in mail.wait_for(email, 1)],
        )
    assert seen[KNOWN] == seen["nobody@example.nl"]
    assert seen[KNOWN][0] == 303


def test_known_and_unknown_addresses_take_the_same_time_class(
    web: FlaskClient, mail: Sink, collector: dict[str, str], centre_services: Services
) -> None:
    for n in range(6):
        _respond(web, collector, f"known{n}@example.nl")
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(6):
        for label in ("known", "unknown"):
            started = time.perf_counter()
            assert ask(web, f"{label}{n}@example.nl").status_code == 303
            times[label].append(time.perf_counter() - started)
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    # Same work either way (the statement count above is the exact check), so the
    # medians differ by scheduling noise only; an extra mail or key would double one.
    assert 0.4 < known / unknown < 2.5, times


def test_confirmation_creates_a_verified_request_by_email_link(
    web: FlaskClient, mail: Sink, centre_services: Services, collector: dict[str, str]
) -> None:
    _respond(web, collector)
    request_id = confirmed_request(web, mail, KNOWN, "access")
    state = centre_services.subject_rights.get(request_id)
    assert (state.kind, state.status, state.verification_method) == (
        "access", "verified", "email-link",
    )  # fmt: skip
    assert len(state.subject_refs) == 1
    actions = [
        (e.action, e.actor, json.loads(e.details).get("method"))
        for e in centre_services.subject_rights.audit(request_id=request_id, subject_ref=None)
    ]
    assert ("request.verified", "privacy-centre", "email-link") in actions


def test_a_link_works_once(web: FlaskClient, mail: Sink) -> None:
    ask(web, KNOWN)
    url = link_in(mail.wait_for(KNOWN, 1)[0], "confirm")
    assert follow(web, url).status_code == 200
    again = web.get(path_of(url))
    assert again.status_code == 410
    assert "used already" in again.get_data(as_text=True)
    token = csrf_of(web.get("/privacy/request").get_data(as_text=True))
    assert web.post(path_of(url), data={"csrf_token": token}).status_code == 410


def test_a_link_expires_after_24_hours(
    web: FlaskClient, mail: Sink, clock: FrozenClock, centre_services: Services
) -> None:
    ask(web, KNOWN)
    url = link_in(mail.wait_for(KNOWN, 1)[0], "confirm")
    clock.advance(hours=23, minutes=59)
    assert web.get(path_of(url)).status_code == 200
    clock.advance(minutes=1)
    late = web.get(path_of(url))
    assert late.status_code == 410
    assert "expired" in late.get_data(as_text=True)
    assert centre_services.subject_rights.listing(None, 10) == []


def test_unknown_link_is_404(web: FlaskClient) -> None:
    assert web.get("/privacy/confirm/not-a-token").status_code == 404
    assert web.get("/privacy/export/not-a-token").status_code == 404


def test_a_confirm_link_does_not_download_and_a_download_link_does_not_confirm(
    web: FlaskClient, mail: Sink
) -> None:
    ask(web, KNOWN)
    url = link_in(mail.wait_for(KNOWN, 1)[0], "confirm")
    assert web.get(path_of(url).replace("/confirm/", "/export/")).status_code == 404


def test_rate_limit_per_address(web: FlaskClient, mail: Sink) -> None:
    for _ in range(3):
        assert ask(web, KNOWN).status_code == 303
    refused = ask(web, "  AN@Example.NL ")
    assert refused.status_code == 429
    assert ask(web, "other@example.nl").status_code == 303
    time.sleep(0.3)
    assert len(mail.to(KNOWN)) == 3


def test_rate_limit_per_client(web: FlaskClient, mail: Sink) -> None:
    for n in range(20):
        assert ask(web, f"person{n}@example.nl").status_code == 303
    assert ask(web, "person20@example.nl").status_code == 429
    other = web.application.test_client()
    token = csrf_of(other.get("/privacy/request").get_data(as_text=True))
    answer = other.post(
        "/privacy/request",
        data={"csrf_token": token, "email": "x@example.nl", "kind": "access"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert answer.status_code == 303


def test_request_without_csrf_is_400_and_sends_nothing(
    web: FlaskClient, mail: Sink, centre_services: Services
) -> None:
    web.get("/privacy/request")
    before = stored_bytes(centre_services)
    answer = web.post("/privacy/request", data={"email": KNOWN, "kind": "access"})
    assert answer.status_code == 400
    time.sleep(0.3)
    assert mail.to(KNOWN) == []
    with centre_services.databases.data_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM privacy_link")).scalar() == 0
    assert KNOWN.encode() not in before


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"email": "not-an-address", "kind": "access"}, 422),
        ({"email": KNOWN, "kind": "rectification"}, 422),
        ({"email": KNOWN}, 422),
        ({"email": "x" * 300 + "@example.nl", "kind": "access"}, 422),
    ],
)
def test_bad_form_input_is_a_clear_page_and_stores_nothing(
    web: FlaskClient, mail: Sink, centre_services: Services, data: dict[str, str], status: int
) -> None:
    token = csrf_of(web.get("/privacy/request").get_data(as_text=True))
    answer = web.post("/privacy/request", data={"csrf_token": token, **data})
    assert answer.status_code == status
    assert 'class="error"' in answer.get_data(as_text=True)
    with centre_services.databases.data_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM privacy_link")).scalar() == 0


def test_access_answer_is_emailed_as_a_single_use_download_valid_7_days(
    web: FlaskClient,
    mail: Sink,
    centre_services: Services,
    collector: dict[str, str],
    officer: dict[str, str],
    clock: FrozenClock,
) -> None:
    _respond(web, collector)
    request_id = confirmed_request(web, mail, KNOWN, "access")
    fulfil(web, officer, request_id)
    message = mail.wait_for(KNOWN, 2)[-1]
    url = link_in(message, "export")
    downloaded = follow(web, url)
    assert downloaded.status_code == 200
    assert downloaded.mimetype == "application/json"
    export = json.loads(downloaded.get_data())
    assert [r["respondent"]["email"] for r in export["responses"]] == [KNOWN]
    assert export["consents"][0]["notice_sha256"]
    assert web.get(path_of(url)).status_code == 410
    # The address was needed for this e-mail only: its key and row are gone now.
    with centre_services.databases.data_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM privacy_contact")).scalar() == 0
    with centre_services.databases.keys_engine.connect() as connection:
        keys = connection.execute(text("SELECT count(*) FROM subject_key")).scalar()
    assert keys == 1  # the respondent's own; no contact key is left


def test_download_link_expires_after_7_days(
    web: FlaskClient,
    mail: Sink,
    collector: dict[str, str],
    officer: dict[str, str],
    clock: FrozenClock,
) -> None:
    _respond(web, collector)
    fulfil(web, officer, confirmed_request(web, mail, KNOWN, "access"))
    url = link_in(mail.wait_for(KNOWN, 2)[-1], "export")
    clock.advance(days=7)
    assert web.get(path_of(url)).status_code == 410


def test_erasure_by_email_leaves_the_respondent_unknown(
    web: FlaskClient, mail: Sink, collector: dict[str, str], officer: dict[str, str]
) -> None:
    _respond(web, collector)
    erased = fulfil(web, officer, confirmed_request(web, mail, KNOWN, "erasure"))
    assert erased["certificate"]["responses_erased"] == 1
    assert "gewist" in body_of(mail.wait_for(KNOWN, 2)[-1])
    fulfil(web, officer, confirmed_request(web, mail, KNOWN, "access"))
    export = json.loads(follow(web, link_in(mail.wait_for(KNOWN, 4)[-1], "export")).get_data())
    assert export["responses"] == [] and export["consents"] == []


def test_rejected_request_forgets_the_address(
    web: FlaskClient, mail: Sink, centre_services: Services, officer: dict[str, str]
) -> None:
    request_id = confirmed_request(web, mail, KNOWN, "access")
    answer = web.post(
        f"/api/v1/privacy/requests/{request_id}/reject", json={"reason": "x"}, headers=officer
    )
    assert answer.status_code == 200
    assert "afgewezen" in body_of(mail.wait_for(KNOWN, 2)[-1])
    with centre_services.databases.data_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM privacy_contact")).scalar() == 0


def test_addresses_are_stored_only_encrypted(
    web: FlaskClient, mail: Sink, centre_services: Services
) -> None:
    canary = "canary-7f3e@example.nl"
    confirmed_request(web, mail, canary, "access")
    assert canary.encode() not in stored_bytes(centre_services)


def test_no_personal_data_in_any_log_line_of_the_flow(
    web: FlaskClient,
    mail: Sink,
    collector: dict[str, str],
    officer: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    canary = "canary-a91c@example.nl"
    caplog.set_level(logging.DEBUG)
    _respond(web, collector, canary)
    request_id = confirmed_request(web, mail, canary, "access")
    fulfil(web, officer, request_id)
    url = link_in(mail.wait_for(canary, 2)[-1], "export")
    follow(web, url)
    assert web.get(path_of(url)).status_code == 410  # used
    ask(web, canary, "erasure")
    # Every logger but the test's own SMTP server (aiosmtpd logs what it receives).
    records = [r for r in caplog.records if not r.name.startswith("mail.")]
    logged = "\n".join(r.getMessage() + repr(r.__dict__) for r in records)
    logged += capsys.readouterr().err
    assert logged, "the flow logged nothing at all"
    for secret in (canary, canary.split("@")[0], "An de Vries", "C-1042", url.rsplit("/", 1)[1]):
        assert secret not in logged


def test_without_smtp_the_form_names_the_controller_contact(
    settings: Settings, clock: FrozenClock
) -> None:
    built = Services.build(replace(settings, secret_key=SECRET), clock=clock)
    try:
        web = create_app(services=built).test_client()
        page = web.get("/privacy/request?lang=nl")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "kan nu geen verzoeken aannemen" in html and "privacy@voorbeeld.nl" in html
        assert "<form" not in html.split('id="main"')[1]
    finally:
        built.databases.dispose()


def test_addresses_of_unconfirmed_requests_are_shredded_after_the_link_expires(
    web: FlaskClient, mail: Sink, centre_services: Services, clock: FrozenClock
) -> None:
    ask(web, KNOWN)
    mail.wait_for(KNOWN, 1)
    clock.advance(hours=25)
    ask(web, "later@example.nl")
    with centre_services.databases.data_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM privacy_contact")).scalar() == 1
    with centre_services.databases.keys_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM subject_key")).scalar() == 1


def test_keys_gc_leaves_a_waiting_contact_key_alone(
    web: FlaskClient, mail: Sink, centre_services: Services, clock: FrozenClock
) -> None:
    ask(web, KNOWN)
    url = link_in(mail.wait_for(KNOWN, 1)[0], "confirm")
    clock.advance(hours=2)
    report = centre_services.orphan_keys.collect()
    assert report.subjects_checked == 1 and report.orphans == 0
    assert follow(web, url).status_code == 200


def test_every_form_refuses_a_post_without_its_csrf_token(
    web: FlaskClient, mail: Sink, centre_services: Services
) -> None:
    ask(web, KNOWN)
    confirm = path_of(link_in(mail.wait_for(KNOWN, 1)[0], "confirm"))
    for path, data in [
        ("/privacy/request", {"email": KNOWN, "kind": "access"}),
        ("/privacy/withdraw", {"receipt_id": "x", "withdraw_token": "y"}),
        ("/privacy/receipt", {"receipt": "{}"}),
        (confirm, {}),
        (confirm, {"csrf_token": "forged"}),
    ]:
        assert web.post(path, data=data).status_code == 400, path
    assert centre_services.subject_rights.listing(None, 10) == []
    assert follow(web, confirm).status_code == 200  # the link was not used up
