"""Withdrawing consent from the privacy centre, as the API does, behind CSRF."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.privacy_centre.conftest import csrf_of, without_csrf
from tests.support import submission


def _receipt(web: FlaskClient, collector: dict[str, str]) -> dict[str, str]:
    answer = web.post("/api/v1/responses", json=submission(), headers=collector)
    assert answer.status_code == 201
    receipt: dict[str, str] = answer.get_json()["receipt"]
    return receipt


def test_withdraw_form_erases_and_says_how_many(
    web: FlaskClient, collector: dict[str, str]
) -> None:
    receipt = _receipt(web, collector)
    token = csrf_of(web.get("/privacy/withdraw?lang=nl").get_data(as_text=True))
    done = web.post(
        "/privacy/withdraw",
        data={
            "csrf_token": token,
            "receipt_id": receipt["receipt_id"],
            "withdraw_token": receipt["withdraw_token"],
        },
    )
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "1 reactie is gewist." in html
    assert "gepubliceerd" in html  # published anonymous statistics stay
    again = web.post(
        "/api/v1/consents/withdraw",
        json={"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]},
        headers=collector,
    )
    assert again.get_json()["responses_erased"] == 1


def test_wrong_token_and_unknown_receipt_get_the_same_message(
    web: FlaskClient, collector: dict[str, str]
) -> None:
    receipt = _receipt(web, collector)
    pages = []
    for receipt_id in (receipt["receipt_id"], "no-such-receipt"):
        token = csrf_of(web.get("/privacy/withdraw?lang=en").get_data(as_text=True))
        answer = web.post(
            "/privacy/withdraw",
            data={"csrf_token": token, "receipt_id": receipt_id, "withdraw_token": "wrong"},
        )
        assert answer.status_code == 422
        pages.append(without_csrf(answer.get_data(as_text=True)))
    assert "do not match" in pages[0]
    assert pages[0].replace(receipt["receipt_id"], "no-such-receipt") == pages[1]


def test_withdraw_without_csrf_token_is_400_and_changes_nothing(
    web: FlaskClient, collector: dict[str, str]
) -> None:
    receipt = _receipt(web, collector)
    web.get("/privacy/withdraw")
    answer = web.post(
        "/privacy/withdraw",
        data={"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]},
    )
    assert answer.status_code == 400
    check = web.post(
        "/api/v1/consents/withdraw",
        json={"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]},
        headers=collector,
    )
    assert check.get_json()["responses_erased"] == 1  # still there to erase
