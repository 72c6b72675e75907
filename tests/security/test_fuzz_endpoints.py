"""Arbitrary JSON and arbitrary bytes at every endpoint, as every role: never a 5xx, and a 4xx
changes no table of either store."""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedbackvault.app import Services
from tests.support import BASE_BODY, table_digests

REQUEST = "/api/v1/privacy/requests/{id}"
ENDPOINTS = [
    ("POST", "/api/v1/responses"),
    ("POST", "/api/v1/consents/withdraw"),
    ("GET", "/api/v1/purposes"),
    ("GET", "/api/v1/receipts/public-key"),
    ("GET", "/api/v1/privacy/requests"),
    ("POST", "/api/v1/privacy/requests"),
    ("GET", REQUEST),
    ("POST", REQUEST + "/verify"),
    ("POST", REQUEST + "/extend"),
    ("POST", REQUEST + "/reject"),
    ("POST", REQUEST + "/fulfil"),
    ("GET", REQUEST + "/export"),
    ("GET", "/api/v1/privacy/audit"),
    ("GET", "/api/v1/aggregates"),
    ("GET", "/api/v1/scores"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
]
ROLES = ["collector", "privacy_officer", "analyst", None]
OWNER = {
    "/api/v1/responses": "collector",
    "/api/v1/consents/withdraw": "collector",
    "/api/v1/aggregates": "analyst",
    "/api/v1/scores": "analyst",
}
# Every code point, lone surrogates included (json.dumps escapes them as `\udxxx`).
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None))

# json.dumps cannot write an integer over 4,300 digits or lists nested past Python's
# recursion limit: placeholders are swapped for them in the raw text.
BIG = "__5001_digits__"
DEEP = re.compile(r'"__deep_(\d+)__"')


def nest(depth: int) -> str:
    """Return the placeholder of a list nested `depth` deep."""
    return f"__deep_{depth}__"


# What broke the service before: lone surrogates, huge integers, far dates, deep nesting.
NASTY = st.sampled_from(
    ["\udfff", "a\ud800b", BIG, 2**70, "0001-01-01T00:00:00+14:00", "9999-12-31",
     "9999-12-31T23:59:59-14:00", "1969-12-31T23:59:59Z", float("nan"), float("inf")]
) | st.integers(30, 3000).map(nest)  # fmt: skip
SCALARS = (
    NASTY
    | st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | ANY_TEXT
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
# Valid-looking bodies with one part replaced reach deeper than random objects do.
PLAUSIBLE_BODIES = [
    BASE_BODY,
    {"kind": "erasure", "subject": {"email": "an@example.nl"}},
    {"method": "letter"},
    {"months": 1, "reason": "busy"},
    {"reason": "duplicate"},
    {"respondent": {"name": "An"}},
    {"receipt_id": "r", "withdraw_token": "t"},
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "text/plain",
    "",
]
# A query string is bytes: text in UTF-8 (surrogates as the bytes they would be), or any.
QUERY_VALUES = (
    ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))
    | st.binary(max_size=20)
    | st.sampled_from([b"9999-12-31", b"0001-01-01", b"0", b"nps", b"overdue", b"csv"])
)
QUERIES = st.dictionaries(
    st.sampled_from(["status", "limit", "cursor", "from", "to", "metric", "survey_id",
                     "group_by", "format", "request_id", "subject_ref", "x"]),
    QUERY_VALUES,
    max_size=3,
).map(urlencode)  # fmt: skip
# Mostly the endpoint's own role (to get past 403), sometimes another or none.
ROLE_CHOICE = st.sampled_from(["own", "own", "own", *ROLES])


def mutated(body: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """Return `body` with the leaf chosen by `path` replaced (or added) with `value`."""
    copied = copy.deepcopy(body)
    node: Any = copied
    for step in path[:-1]:
        if isinstance(node.get(step), dict):
            node = node[step]
        else:
            break
    node[path[-1] if path else "extra"] = value
    return copied


PLAUSIBLE = st.builds(
    mutated,
    st.sampled_from(PLAUSIBLE_BODIES),
    st.lists(st.sampled_from(["consent", "respondent", "answers", "subject", "given_at",
                              "email", "name", "customer_id", "comment", "nps", "opt_in",
                              "kind", "months", "method", "reason", "note", "receipt_id",
                              "withdraw_token"]),
             min_size=1, max_size=3),
    ANY_JSON,
)  # fmt: skip


def encode(value: Any, ascii_only: bool) -> bytes:
    """Serialise as JSON the way a client might (NaN and surrogates included)."""
    text = json.dumps(value, ensure_ascii=ascii_only).replace(f'"{BIG}"', "9" * 5001)
    text = DEEP.sub(lambda m: "[" * int(m[1]) + "]" * int(m[1]), text)
    return text.encode("utf-8", "surrogatepass")


class Caller:
    """Sends one request as a role and checks the rules on its answer."""

    def __init__(self, client: FlaskClient, services: Services) -> None:
        self.client = client
        self.services = services
        self.headers = {
            role: {"Authorization": f"Bearer {services.tokens.create(role, 'fuzz-' + role)}"}
            for role in ROLES
            if role is not None
        }
        answer = client.post(
            "/api/v1/privacy/requests",
            json={"kind": "access", "subject": {"email": "an@example.nl"}},
            headers=self.headers["privacy_officer"],
        )
        self.request_id = answer.get_json()["id"]

    def send(
        self,
        endpoint: tuple[str, str],
        role: str | None,
        data: bytes | None,
        content_type: str,
        query: str,
        known_id: bool,
    ) -> None:
        """Send, then assert no 5xx and, on a 4xx, no change in either store."""
        method, template = endpoint
        if role == "own":
            role = OWNER.get(template, "privacy_officer")
        path = template.replace("{id}", self.request_id if known_id else "no-such-request")
        headers = dict(self.headers.get(role or "", {}))
        if content_type:
            headers["Content-Type"] = content_type
        before = table_digests(self.services)
        answer = self.client.open(
            path, method=method, data=data, headers=headers, query_string=query
        )
        assert answer.status_code < 500, (method, path, answer.get_data()[:300])
        if 400 <= answer.status_code < 500:
            assert answer.mimetype == "application/problem+json", (method, path)
            assert table_digests(self.services) == before, (method, path, answer.status_code)


@pytest.fixture
def caller(client: FlaskClient, services: Services) -> Caller:
    """One set of tokens and one open request, shared by every example of a test."""
    return Caller(client, services)


FUZZ = settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=" ".join)
@FUZZ
@given(
    role=ROLE_CHOICE,
    body=PLAUSIBLE | ANY_JSON,
    ascii_only=st.booleans(),
    content_type=st.sampled_from(CONTENT_TYPES),
    query=QUERIES,
    known_id=st.booleans(),
)
def test_arbitrary_json_never_5xx_and_a_4xx_changes_nothing(
    caller: Caller,
    endpoint: tuple[str, str],
    role: str | None,
    body: Any,
    ascii_only: bool,
    content_type: str,
    query: str,
    known_id: bool,
) -> None:
    caller.send(endpoint, role, encode(body, ascii_only), content_type, query, known_id)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=" ".join)
@FUZZ
@given(
    role=ROLE_CHOICE,
    data=st.binary(max_size=300),
    content_type=st.sampled_from(CONTENT_TYPES),
    known_id=st.booleans(),
)
def test_arbitrary_bytes_never_5xx_and_a_4xx_changes_nothing(
    caller: Caller,
    endpoint: tuple[str, str],
    role: str | None,
    data: bytes,
    content_type: str,
    known_id: bool,
) -> None:
    caller.send(endpoint, role, data, content_type, "", known_id)
