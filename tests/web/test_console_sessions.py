"""Session cookies: flags, 30 minutes idle, logout, CSRF, and no console without a secret."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings, SettingsError
from tests.support import FrozenClock
from tests.web.support import csrf_token, login, post_form


def _cookie_header(client: FlaskClient) -> str:
    answer = client.get("/console/login")
    [cookie] = [v for k, v in answer.headers.items() if k == "Set-Cookie"]
    return cookie


def test_session_cookie_is_httponly_and_samesite_lax_without_tls(app: Flask) -> None:
    cookie = _cookie_header(app.test_client())
    assert cookie.startswith("fv_session=")
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path"} <= flags
    assert "SameSite=Lax" in cookie
    assert "secure" not in flags


def test_session_cookie_is_secure_when_served_over_tls(
    settings: Settings, clock: FrozenClock
) -> None:
    tls = Settings.from_env({**settings.environ, "FEEDBACKVAULT_TLS": "true"})
    services = Services.build(tls, clock=clock)
    try:
        cookie = _cookie_header(create_app(services=services).test_client())
    finally:
        services.databases.dispose()
    assert "; Secure" in cookie


def test_a_session_ends_after_30_minutes_idle(
    person: Callable[..., FlaskClient], clock: FrozenClock
) -> None:
    officer = person("privacy_officer")
    clock.advance(minutes=29)
    assert officer.get("/console/requests").status_code == 200
    clock.advance(minutes=29)  # 29 idle minutes again: the last page reset the clock
    assert officer.get("/console/requests").status_code == 200
    clock.advance(minutes=30, seconds=1)
    expired = officer.get("/console/requests")
    assert expired.status_code == 302
    assert expired.location.startswith("/console/login")


def test_logout_ends_the_session_even_for_a_copied_cookie(
    app: Flask, person: Callable[..., FlaskClient]
) -> None:
    officer = person("privacy_officer")
    cookie = officer.get_cookie("fv_session")
    assert cookie is not None
    stolen = app.test_client()
    stolen.set_cookie("fv_session", cookie.value)
    assert stolen.get("/console/requests").status_code == 200
    assert post_form(officer, "/console/logout", {}, page="/console/account").status_code == 302
    assert officer.get("/console/requests").status_code == 302
    assert stolen.get("/console/requests").status_code == 302


def test_a_forged_cookie_is_not_a_session(app: Flask) -> None:
    forged = app.test_client()
    forged.set_cookie("fv_session", "eyJhY2NvdW50IjoieCIsInZlcnNpb24iOjF9.aaaa.bbbb")
    assert forged.get("/console/requests").status_code == 302


def test_without_a_session_secret_the_console_says_how_to_set_it_up(
    settings: Settings, clock: FrozenClock, collector: dict[str, str]
) -> None:
    settings.secret_key_file.unlink()
    bare = Settings.from_env(settings.environ)
    assert bare.secret_key is None
    services = Services.build(bare, clock=clock)
    try:
        client = create_app(services=services).test_client()
        page = client.get("/console/login?lang=en")
        assert page.status_code == 503
        assert "feedbackvault init" in page.get_data(as_text=True)
        assert "Set-Cookie" not in page.headers
        # The API does not need the console's secret.
        assert client.get("/healthz").status_code == 200
    finally:
        services.databases.dispose()


def test_a_short_secret_is_refused(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({**settings.environ, "FEEDBACKVAULT_SECRET_KEY": "short"})


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_post_without_a_valid_csrf_token_is_400_and_changes_nothing(
    person: Callable[..., FlaskClient], services: Services, officer: dict[str, str],
    app: Flask, token: str | None,
) -> None:  # fmt: skip
    client = app.test_client()
    created = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "access", "subject": {"email": "an@example.nl"}},
        headers=officer,
    )
    request_id = created.get_json()["id"]
    browser = person("privacy_officer")
    data = {"method": "Antwoord vanaf bekend adres"}
    if token is not None:
        data["csrf_token"] = token
    refused = browser.post(f"/console/requests/{request_id}/verify", data=data)
    assert refused.status_code == 400
    assert services.subject_rights.get(request_id).status == "received"
    made = browser.post(
        "/console/requests",
        data={**data, "kind": "erasure", "email": "x@example.nl"},
    )
    assert made.status_code == 400
    assert services.subject_rights.counts() == {"received": 1, "overdue": 0}


def test_a_token_from_another_session_is_refused(
    person: Callable[..., FlaskClient], services: Services
) -> None:
    officer = person("privacy_officer")
    other = person("privacy_officer", email="tweede@voorbeeld.nl")
    foreign = csrf_token(other, "/console/requests")
    answer = officer.post(
        "/console/requests",
        data={"csrf_token": foreign, "kind": "access", "email": "an@example.nl"},
    )
    assert answer.status_code == 400
    assert services.subject_rights.counts() == {"overdue": 0}


def test_login_without_a_token_counts_no_failure(app: Flask, services: Services) -> None:
    services.accounts.create("fg@voorbeeld.nl", "privacy_officer")
    client = app.test_client()
    for _ in range(6):
        answer = client.post(
            "/console/login", data={"email": "fg@voorbeeld.nl", "password": "wrong password!"}
        )
        assert answer.status_code == 400
    [account] = services.accounts.list()
    assert account.locked_until is None
    assert login(client, "fg@voorbeeld.nl", "wrong password!").status_code == 401


def test_logout_without_a_csrf_token_is_400_and_keeps_the_session(
    person: Callable[..., FlaskClient],
) -> None:
    # Logging someone out from another site is a CSRF attack too.
    officer = person("privacy_officer")
    assert officer.post("/console/logout").status_code == 400
    assert officer.get("/console/requests").status_code == 200
