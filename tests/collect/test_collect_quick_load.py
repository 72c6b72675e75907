"""The quick path of submission parsing agrees with the schema, or steps aside for it."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
import pytest

from feedbackvault.api.collect.schemas import RecordedSchema, SubmissionSchema
from tests.collect.test_collect_rejections import INVALID_BODIES, consent
from tests.support import submission

SCHEMA = SubmissionSchema()

VALID_BODIES: dict[str, Any] = {
    "everything": submission(),
    "no respondent, no comment": submission(respondent=None, answers={"csat": 3}),
    "no touchpoint or locale": submission(touchpoint=None, locale=None),
    "empty respondent": submission(respondent={}),
    "email with surrounding spaces": submission(respondent={"email": "  an@example.nl "}),
    "given_at with an offset and fraction": submission(
        consent=consent(given_at="2026-11-24T10:59:00.250+01:00")
    ),
    "unknown purpose (refused later, by policy)": submission(purpose="marketing"),
    "opt_in false is refused by the schema": submission(consent=consent(opt_in=False)),
}


@pytest.mark.parametrize("case", sorted(VALID_BODIES))
def test_quick_load_builds_what_the_schema_builds(case: str) -> None:
    body = VALID_BODIES[case]
    try:
        expected = SCHEMA.load(body)
    except ma.ValidationError:
        expected = None
    assert SCHEMA.quick_load(body) == expected


@pytest.mark.parametrize("case", sorted(INVALID_BODIES))
def test_quick_load_leaves_every_body_the_schema_refuses_to_it(case: str) -> None:
    body, _field = INVALID_BODIES[case]
    try:
        expected = SCHEMA.load(body)
    except ma.ValidationError:
        expected = None
    # None sends the body through webargs and the schema, for their exact messages.
    assert SCHEMA.quick_load(body) == expected


@pytest.mark.parametrize(
    "body",
    [None, "text", 3, [], {"consent": None}, submission(respondent=None) | {"respondent": None}],
)
def test_quick_load_steps_aside_for_anything_but_a_clean_object(body: Any) -> None:
    assert SCHEMA.quick_load(body) is None


RECEIPT = {
    "receipt_id": "r-1",
    "purpose": "service-improvement",
    "notice_version": "2026-01",
    "given_at": "2026-11-24T09:59:00Z",
    "recorded_at": "2026-11-24T10:00:00Z",
    "withdraw_token": "t",
    "signature": "s",
}
RECORDED = {"response_id": "a-1", "expires_at": "2027-05-23T10:00:00Z", "receipt": RECEIPT}
ANSWERS: dict[str, Any] = {
    "the usual answer": RECORDED,
    "keys in another order": dict(reversed(RECORDED.items())),
    "an unknown key": {**RECORDED, "extra": "x"},
    "a key missing": {"expires_at": "2027-05-23T10:00:00Z", "receipt": RECEIPT},
    "a receipt key missing": {**RECORDED, "receipt": {"receipt_id": "r-1"}},
    "a number": {**RECORDED, "response_id": 7},
    "a null": {**RECORDED, "expires_at": None},
    "a receipt that is not a dict": {**RECORDED, "receipt": None},
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_the_quick_dump_gives_the_schemas_json_in_its_order(case: str) -> None:
    schema = RecordedSchema()
    expected = ma.Schema.dump(schema, ANSWERS[case])
    assert json.dumps(schema.dump(ANSWERS[case])) == json.dumps(expected)
