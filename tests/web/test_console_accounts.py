"""People's accounts: one-time passwords, Argon2id, lock-out, disabling, and their audit."""

from __future__ import annotations

import json

from click.testing import CliRunner
from flask import Flask

from feedbackvault.app import Services
from feedbackvault.cli import main
from feedbackvault.settings import Settings
from tests.support import FrozenClock
from tests.web.support import NEW_PASSWORD, change_password, login, post_form, text_of

EMAIL = "fg@voorbeeld.nl"


def _audit(services: Services) -> list[tuple[str, str]]:
    with services.stores.read() as unit:
        head, _ = unit.audit.head()
        return [(r.actor, r.action) for r in unit.audit.records(head)]


def _cli(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=dict(settings.environ))
    assert result.exit_code == 0, result.output
    return result.output


def test_users_create_prints_a_one_time_password_alone_on_the_last_line(
    settings: Settings, app: Flask
) -> None:
    output = _cli(settings, "users", "create", "--email", " FG@Voorbeeld.nl ", "--role",
                  "privacy_officer", "--name", "Fenna")  # fmt: skip
    password = output.splitlines()[-1]
    assert " " not in password and len(password) >= 16
    client = app.test_client()
    answer = login(client, EMAIL, password)
    assert answer.location == "/console/account/password"
    assert client.get("/console/requests").location == "/console/account/password"


def test_users_list_and_disable_and_reset_password(settings: Settings, app: Flask) -> None:
    first = _cli(settings, "users", "create", "--email", EMAIL, "--role", "auditor").splitlines()[
        -1
    ]
    assert f"{EMAIL}\tauditor\t-\tmust change password" in _cli(settings, "users", "list")
    again = _cli(settings, "users", "reset-password", EMAIL).splitlines()[-1]
    assert again != first
    client = app.test_client()
    assert login(client, EMAIL, first).status_code == 401
    assert login(client, EMAIL, again).status_code == 302
    _cli(settings, "users", "disable", EMAIL)
    assert "disabled" in _cli(settings, "users", "list")
    # The disabled account's open session ends at its next request.
    assert client.get("/console/account").location.startswith("/console/login")
    assert login(app.test_client(), EMAIL, again).status_code == 401


def test_password_is_stored_as_argon2id_only(services: Services) -> None:
    password = services.accounts.create(EMAIL, "analyst")
    with services.stores.read() as unit:
        row = unit.accounts.by_email(EMAIL)
        assert row is not None
        assert row.password_hash.startswith("$argon2id$")
        assert password not in row.password_hash


def test_the_first_password_must_be_changed_and_cannot_be_kept(
    services: Services, app: Flask
) -> None:
    one_time = services.accounts.create(EMAIL, "privacy_officer")
    client = app.test_client()
    login(client, EMAIL, one_time)
    kept = change_password(client, one_time, one_time)
    assert kept.status_code == 400
    short = change_password(client, one_time, "kort")
    assert short.status_code == 400
    assert "12" in text_of(short)
    assert change_password(client, one_time, NEW_PASSWORD).location == "/console/requests"
    assert client.get("/console/requests").status_code == 200


def test_five_wrong_passwords_in_a_row_lock_the_account_for_15_minutes(
    services: Services, app: Flask, clock: FrozenClock
) -> None:
    password = services.accounts.create(EMAIL, "privacy_officer")
    client = app.test_client()
    for _ in range(5):
        assert login(client, EMAIL, "wrong password!").status_code == 401
    # Locked: even the right password is refused, with the same answer.
    refused = login(client, EMAIL, password)
    assert refused.status_code == 401
    assert "15" in text_of(refused)
    clock.advance(minutes=14, seconds=59)
    assert login(client, EMAIL, password).status_code == 401
    clock.advance(seconds=2)
    assert login(client, EMAIL, password).status_code == 302


def test_a_success_resets_the_failure_count(services: Services, app: Flask) -> None:
    password = services.accounts.create(EMAIL, "privacy_officer")
    for _ in range(4):
        assert login(app.test_client(), EMAIL, "wrong password!").status_code == 401
    assert login(app.test_client(), EMAIL, password).status_code == 302
    for _ in range(4):
        assert login(app.test_client(), EMAIL, "wrong password!").status_code == 401
    assert login(app.test_client(), EMAIL, password).status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_leaves_nothing(
    services: Services, app: Flask
) -> None:
    services.accounts.create(EMAIL, "privacy_officer")
    before = _audit(services)
    unknown = login(app.test_client(), "nobody@voorbeeld.nl", "wrong password!")
    wrong = login(app.test_client(), EMAIL, "wrong password!")
    assert unknown.status_code == wrong.status_code == 401
    assert text_of(unknown) == text_of(wrong)
    added = _audit(services)[len(before) :]
    assert added == [(f"account:{EMAIL}", "account.login_failed")]


def test_every_account_act_is_audited_with_the_account_as_actor(
    services: Services, app: Flask
) -> None:
    one_time = services.accounts.create(EMAIL, "privacy_officer")
    client = app.test_client()
    login(client, EMAIL, "wrong password!")
    login(client, EMAIL, one_time)
    change_password(client, one_time, NEW_PASSWORD)
    post_form(client, "/console/logout", {}, page="/console/account")
    actor = f"account:{EMAIL}"
    assert [a for a in _audit(services) if a[0] in (actor, "cli")] == [
        ("cli", "account.created"),
        (actor, "account.login_failed"),
        (actor, "account.login"),
        (actor, "account.password_changed"),
        (actor, "account.logout"),
    ]


def test_recent_logins_are_shown_on_the_account_page(
    services: Services, app: Flask, clock: FrozenClock
) -> None:
    one_time = services.accounts.create(EMAIL, "analyst", name="Ana Lyst")
    client = app.test_client()
    login(client, EMAIL, one_time)
    change_password(client, one_time, NEW_PASSWORD)
    clock.advance(days=1)
    login(client, EMAIL, NEW_PASSWORD)
    page = client.get("/console/account?lang=en")
    text = text_of(page)
    assert "Ana Lyst" in text and "Analyst" in text
    with services.stores.read() as unit:
        row = unit.accounts.by_email(EMAIL)
        assert row is not None
        logins = json.loads(row.recent_logins)
    assert len(logins) == 2
    assert all(moment in page.get_data(as_text=True) for moment in logins)
