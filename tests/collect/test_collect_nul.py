"""NUL characters: refused however strict JSON spells them, and only those.

PostgreSQL text cannot hold NUL, so a body whose decoded strings hold one is a 422.
The check skips bodies whose bytes cannot spell one; these cases pin that it skips
no body that does.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from feedbackvault.api.blueprint import NUL_MESSAGE
from feedbackvault.app import Services
from tests.support import row_counts, submission

SPOT = "SPOT"


def body_with(text: str, *, key: bool = False, listed: bool = False) -> bytes:
    """Return a valid submission's JSON with `text` spliced raw into the comment or a key."""
    if key:
        body: object = submission(answers={"nps": 9, SPOT: "x"})
    else:
        body = submission(answers={"nps": 9, "comment": f"a{SPOT}b"})
    return json.dumps([body] if listed else body).replace(SPOT, text).encode("utf-8")


NUL_BODIES = {
    "escape in a value": body_with("\\u0000"),
    "escape in a key": body_with("\\u0000", key=True),
    "escape inside a list": body_with("\\u0000", listed=True),
    "escape after an escaped backslash": body_with("\\\\\\u0000"),
}
NOT_JSON = {
    "upper-case U": body_with("\\U0000"),
    "space among the digits": body_with("\\u 000"),
    "underscore among the digits": body_with("\\u0_00"),
    "sign before the digits": body_with("\\u+000"),
    "raw NUL byte": body_with("\x00"),
}


def post(client: FlaskClient, collector: dict[str, str], data: bytes) -> tuple[int, object]:
    """Post a raw JSON body; return the status and the decoded answer."""
    response = client.post(
        "/api/v1/responses", data=data, content_type="application/json", headers=collector
    )
    return response.status_code, response.get_json(silent=True)


@pytest.mark.parametrize("case", sorted(NUL_BODIES))
def test_a_nul_escape_anywhere_in_the_body_is_422_and_stores_nothing(
    case: str, client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    status, problem = post(client, collector, NUL_BODIES[case])
    assert (status, problem["errors"], row_counts(services)) == (  # type: ignore[index]
        422,
        {"body": [NUL_MESSAGE]},
        before,
    )


@pytest.mark.parametrize("case", sorted(NOT_JSON))
def test_a_nul_spelled_outside_strict_json_is_400_and_stores_nothing(
    case: str, client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    status, _ = post(client, collector, NOT_JSON[case])
    assert (status, row_counts(services)) == (400, before)


def test_an_escaped_backslash_before_u0000_is_text_and_accepted(
    client: FlaskClient, collector: dict[str, str]
) -> None:
    status, _ = post(client, collector, body_with("\\\\u0000"))
    assert status == 201
