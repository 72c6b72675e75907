"""The receipt check: a valid signature, a changed receipt, and pastes that are no receipt."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.privacy_centre.conftest import csrf_of
from tests.support import submission


def _check(web: FlaskClient, pasted: str) -> tuple[int, str]:
    token = csrf_of(web.get("/privacy/receipt?lang=en").get_data(as_text=True))
    answer = web.post("/privacy/receipt", data={"csrf_token": token, "receipt": pasted})
    return answer.status_code, answer.get_data(as_text=True)


def test_a_genuine_receipt_is_valid_and_links_its_notice(
    web: FlaskClient, collector: dict[str, str]
) -> None:
    receipt = web.post("/api/v1/responses", json=submission(), headers=collector).get_json()[
        "receipt"
    ]
    status, html = _check(web, json.dumps(receipt, indent=2))
    assert status == 200
    assert "Valid: this receipt was signed by us" in html
    assert receipt["notice_sha256"] in html
    assert "/privacy/notices/service-improvement/2026-01?lang=nl" in html
    assert receipt["withdraw_token"] not in html


@pytest.mark.parametrize(
    ("field", "value"),
    [("purpose", "product-research"), ("notice_sha256", "0" * 64), ("given_at", "2020-01-01")],
)
def test_a_changed_receipt_is_not_valid(
    web: FlaskClient, collector: dict[str, str], field: str, value: str
) -> None:
    receipt = web.post("/api/v1/responses", json=submission(), headers=collector).get_json()[
        "receipt"
    ]
    receipt[field] = value
    status, html = _check(web, json.dumps(receipt))
    assert status == 200
    assert "Not valid: the signature does not match" in html


ODD_PASTES = [
    "", "{", "[]", "null", '"x"', "1e999999", "9" * 5000, "[" * 5000 + "]" * 5000,
    '{"signature": 5}', '{"signature": "!!"}', '{"signature": "", "a": "\\ud800"}',
    '{"signature": "AAAA", "purpose": {"x": 1}}', "\x00", "x" * 9000,
]  # fmt: skip


@pytest.mark.parametrize("pasted", ODD_PASTES)
def test_no_paste_gets_a_500(web: FlaskClient, pasted: str) -> None:
    status, _ = _check(web, pasted)
    assert status in (200, 422)


@hsettings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pasted=st.text(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
    ).map(json.dumps)
)
def test_random_pastes_never_get_a_500(web: FlaskClient, pasted: str) -> None:
    status, _ = _check(web, pasted)
    assert status in (200, 422)
