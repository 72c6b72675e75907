"""Ambiguous or hostile JSON bodies: a 400/415/422 problem document, never a 500, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from tests.support import row_counts, submission

SPOT = "SPOT"


def raw_submission(text: str, where: str = "comment") -> bytes:
    """Return a valid submission's JSON with `text` spliced raw into one string field."""
    body = submission()
    if where == "comment":
        body["answers"]["comment"] = SPOT
    else:
        body["respondent"][where] = SPOT
    return json.dumps(body).replace(f'"{SPOT}"', text).encode("utf-8")


def nested(levels: int) -> bytes:
    """Return a submission nesting `levels` deep: the body, `answers`, then lists as comment."""
    lists = levels - 2
    return raw_submission("[" * lists + "]" * lists)


def post_raw(
    client: FlaskClient,
    headers: dict[str, str],
    path: str,
    data: bytes,
    content_type: str = "application/json",
) -> tuple[int, dict[str, Any]]:
    """Post raw bytes; return the status and the problem document (or answer)."""
    response = client.post(path, data=data, content_type=content_type, headers=headers)
    return response.status_code, response.get_json(force=True, silent=True) or {}


MALFORMED = {
    "repeated key": json.dumps(submission())[:-1].encode() + b', "survey_id": "other"}',
    "repeated opt_in, false then true": (
        json.dumps(submission())
        .replace('"opt_in": true', '"opt_in": false, "opt_in": true')
        .encode()
    ),
    "nested 33 deep": nested(33),
    "nested 1000 deep": nested(1000),
    "nested 30000 deep": nested(30_000),
    "integer of 21 digits": raw_submission("1" * 21),
    "integer of 5001 digits": raw_submission("9" * 5001),
    "fraction of 25 digits": raw_submission("0." + "1" * 25),
    "exponent too large": raw_submission("1e99999"),
    "NaN": raw_submission("NaN"),
    "Infinity": raw_submission("-Infinity"),
    "escaped lone low surrogate": raw_submission('"\\udfff"'),
    "escaped lone high surrogate": raw_submission('"x\\uD800y"'),
    "reversed surrogate pair": raw_submission('"\\udc00\\ud800"'),
    "lone surrogate in a key": raw_submission('{"\\udfff": 1}'),
    "raw surrogate bytes (not UTF-8)": raw_submission("SPOT").replace(b"SPOT", b'"\xed\xbf\xbf"'),
    "not UTF-8": raw_submission("SPOT").replace(b"SPOT", b'"\xff"'),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_ambiguous_json_is_400_and_stores_nothing(
    case: str, client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    status, problem = post_raw(client, collector, "/api/v1/responses", MALFORMED[case])
    assert status == 400, (status, problem)
    assert problem["status"] == 400
    assert row_counts(services) == before


def test_depth_32_and_20_digits_are_still_json(
    client: FlaskClient, collector: dict[str, str]
) -> None:
    # They reach validation (422: the comment must be a string), so they parsed.
    assert post_raw(client, collector, "/api/v1/responses", nested(32))[0] == 422
    assert post_raw(client, collector, "/api/v1/responses", raw_submission("1" * 20))[0] == 422
    valid_pair = raw_submission('"ok \\ud83d\\ude00"')
    assert post_raw(client, collector, "/api/v1/responses", valid_pair)[0] == 201


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-16",
        "application/json; charset=latin-1",
        "application/json; charset=iso-8859-1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/merge-patch+json",
    ],
)
def test_anything_but_utf8_json_is_415(
    content_type: str, client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    body = json.dumps(submission()).encode("utf-8")
    status, problem = post_raw(client, collector, "/api/v1/responses", body, content_type)
    assert (status, problem.get("status")) == (415, 415)
    assert row_counts(services) == before


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8"],
)
def test_utf8_json_is_accepted(
    content_type: str, client: FlaskClient, collector: dict[str, str]
) -> None:
    body = json.dumps(submission()).encode("utf-8")
    assert post_raw(client, collector, "/api/v1/responses", body, content_type)[0] == 201


SURROGATE_FIELDS = ["comment", "email", "name", "customer_id"]


@pytest.mark.parametrize("where", SURROGATE_FIELDS)
def test_a_surrogate_in_a_personal_field_leaves_no_key_and_no_index_entry(
    where: str, client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    status, _ = post_raw(
        client, collector, "/api/v1/responses", raw_submission('"a\\udfffb"', where)
    )
    after = row_counts(services)
    assert status == 400
    keystore = {table: n for table, n in after.items() if table.startswith("keys.")}
    assert keystore == {table: before[table] for table in keystore}
    assert after == before


def officer_request(client: FlaskClient, officer: dict[str, str]) -> str:
    """Create an erasure request and return its id."""
    answer = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "erasure", "subject": {"email": "an@example.nl"}},
        headers=officer,
    )
    assert answer.status_code == 201
    return str(answer.get_json()["id"])


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/privacy/requests", '{"kind": "access", "subject": {"email": SPOT}}'),
        ("/api/v1/privacy/requests", '{"kind": "access", "subject": {"customer_id": SPOT}}'),
        (
            "/api/v1/privacy/requests",
            '{"kind": "access", "subject": {"email": "a@b.nl"}, "note": SPOT}',
        ),
        ("{request}/verify", '{"method": SPOT}'),
        ("{request}/extend", '{"months": 1, "reason": SPOT}'),
        ("{request}/reject", '{"reason": SPOT}'),
    ],
)
def test_a_surrogate_in_a_privacy_body_is_400_and_changes_nothing(
    path: str, template: str, client: FlaskClient, officer: dict[str, str], services: Services
) -> None:
    request_path = "/api/v1/privacy/requests/" + officer_request(client, officer)
    before = row_counts(services)
    data = template.replace("SPOT", '"x\\udfff"').encode()
    status, problem = post_raw(client, officer, path.replace("{request}", request_path), data)
    assert (status, problem.get("status")) == (400, 400)
    assert row_counts(services) == before
    state = client.get(request_path, headers=officer).get_json()
    assert state["status"] == "received"


def test_a_surrogate_receipt_id_is_400(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    data = b'{"receipt_id": "\\udfff", "withdraw_token": "t"}'
    assert post_raw(client, collector, "/api/v1/consents/withdraw", data)[0] == 400
    assert row_counts(services) == before


def test_a_rectification_body_is_just_as_strict(
    client: FlaskClient, officer: dict[str, str], services: Services
) -> None:
    answer = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "rectification", "subject": {"email": "an@example.nl"}},
        headers=officer,
    )
    request_path = "/api/v1/privacy/requests/" + answer.get_json()["id"]
    client.post(request_path + "/verify", json={"method": "letter"}, headers=officer)
    before = row_counts(services)
    for data in (
        b'{"respondent": {"name": "\\udfff"}}',
        b'{"respondent": {"name": "a", "name": "b"}}',
        nested(40),
    ):
        assert post_raw(client, officer, request_path + "/fulfil", data)[0] == 400
    body = b'{"respondent": {"name": "A"}}'
    assert post_raw(client, officer, request_path + "/fulfil", body, "text/plain")[0] == 415
    assert row_counts(services) == before


@pytest.mark.parametrize(
    "email", ["not-an-address", "a@", "@example.nl", "a b@example.nl", "x" * 250 + "@e.nl"]
)
def test_the_request_subject_email_is_validated(
    email: str, client: FlaskClient, officer: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    answer = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "access", "subject": {"email": email}},
        headers=officer,
    )
    assert answer.status_code == 422
    assert "subject.email" in answer.get_json()["errors"]
    assert row_counts(services) == before


def test_a_trimmed_request_subject_email_is_accepted(
    client: FlaskClient, officer: dict[str, str]
) -> None:
    answer = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "access", "subject": {"email": "  An@Example.nl "}},
        headers=officer,
    )
    assert answer.status_code == 201
