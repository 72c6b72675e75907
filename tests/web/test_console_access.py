"""Every console page x every role: the page, the login page or 403; auditors change nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedbackvault.app import Services
from feedbackvault.services.accounts import ROLES
from tests.web.support import csrf_token

EVERYONE = frozenset(ROLES)
READERS = frozenset({"privacy_officer", "auditor"})
OFFICER = frozenset({"privacy_officer"})
FOLLOW_UP = frozenset({"follow_up"})


ANALYST = frozenset({"analyst"})
PUBLIC = "public"

# (method, rule) -> who may use it. A console route missing here fails the first test.
ACCESS: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/console/"): PUBLIC,
    ("GET", "/console/login"): PUBLIC,
    ("POST", "/console/login"): PUBLIC,
    ("POST", "/console/logout"): PUBLIC,
    ("GET", "/console/account"): EVERYONE,
    ("GET", "/console/account/password"): EVERYONE,
    ("POST", "/console/account/password"): EVERYONE,
    ("GET", "/console/requests"): READERS,
    ("POST", "/console/requests"): OFFICER,
    ("GET", "/console/requests/<string:request_id>"): READERS,
    ("POST", "/console/requests/<string:request_id>/verify"): OFFICER,
    ("POST", "/console/requests/<string:request_id>/extend"): OFFICER,
    ("POST", "/console/requests/<string:request_id>/reject"): OFFICER,
    ("POST", "/console/requests/<string:request_id>/fulfil"): OFFICER,
    ("GET", "/console/requests/<string:request_id>/erase"): OFFICER,
    ("GET", "/console/requests/<string:request_id>/export.<any(json, zip):fmt>"): OFFICER,
    ("GET", "/console/requests/<string:request_id>/certificate"): READERS,
    ("GET", "/console/requests/<string:request_id>/certificate.json"): READERS,
    ("GET", "/console/follow-up"): FOLLOW_UP,
    ("GET", "/console/follow-up/<response_id>"): FOLLOW_UP,
    ("POST", "/console/follow-up/<response_id>/done"): FOLLOW_UP,
    ("GET", "/console/audit"): READERS,
    ("GET", "/console/audit/verify"): READERS,
    ("GET", "/console/audit/anchor.json"): READERS,
    ("GET", "/console/register"): READERS,
    ("GET", "/console/register.md"): READERS,
    ("GET", "/console/purposes"): READERS,
    ("GET", "/console/scores"): ANALYST,
    ("GET", "/console/scores.csv"): ANALYST,
}


def console_routes(app: Flask) -> Iterator[tuple[str, str]]:
    """Yield (method, rule) for every console route."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/console"):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, rule.rule


def concrete(rule: str, request_id: str) -> str:
    """Fill a rule's parameters: the request id, and the first choice of `any(...)`."""
    path = rule.replace("<string:request_id>", request_id)
    return re.sub(r"<any\(([a-z]+)[^>]*>", r"\1", path)


def test_every_console_route_has_a_rule(app: Flask) -> None:
    assert sorted(set(console_routes(app)) ^ set(ACCESS)) == []


@pytest.fixture
def request_id(client: FlaskClient, officer: dict[str, str]) -> str:
    """A received access request, made through the API."""
    created = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "access", "subject": {"email": "an@example.nl"}},
        headers=officer,
    )
    return str(created.get_json()["id"])


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_its_pages_and_403_elsewhere(
    role: str, person: Callable[..., FlaskClient], request_id: str
) -> None:
    browser = person(role)
    token = csrf_token(browser, "/console/account")
    wrong = {}
    for (method, rule), allowed in ACCESS.items():
        if allowed == PUBLIC:
            continue
        path = concrete(rule, request_id)
        answer = browser.open(path, method=method, data={"csrf_token": token})
        if role not in allowed and answer.status_code != 403:
            wrong[(method, rule)] = answer.status_code
        if (role in allowed and answer.status_code in (401, 403)) or answer.status_code >= 500:
            wrong[(method, rule)] = answer.status_code
    assert wrong == {}


def test_not_logged_in_every_page_redirects_to_the_login_page(app: Flask, request_id: str) -> None:
    client = app.test_client()
    token = csrf_token(client, "/console/login")
    for (method, rule), allowed in ACCESS.items():
        if allowed == PUBLIC:
            continue
        answer = client.open(concrete(rule, request_id), method=method, data={"csrf_token": token})
        assert (method, rule, answer.status_code) == (method, rule, 302)
        assert answer.location.startswith("/console/login")


def test_an_auditor_sees_the_queue_and_a_request_without_any_changing_button(
    person: Callable[..., FlaskClient], request_id: str, services: Services
) -> None:
    auditor = person("auditor")
    for path in ("/console/requests", f"/console/requests/{request_id}"):
        html = auditor.get(path).get_data(as_text=True)
        actions = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', html)
        assert actions == ["/console/logout"] or actions == [], (path, actions)
        assert "/erase" not in html and "export." not in html
    token = csrf_token(auditor, "/console/account")
    verify = auditor.post(
        f"/console/requests/{request_id}/verify", data={"csrf_token": token, "method": "x"}
    )
    assert verify.status_code == 403
    assert services.subject_rights.get(request_id).status == "received"


def test_an_unknown_request_is_a_404_page(person: Callable[..., FlaskClient]) -> None:
    officer = person("privacy_officer")
    assert officer.get(f"/console/requests/{uuid.uuid4()}").status_code == 404
