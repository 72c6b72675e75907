"""Every page: the pages' CSP, nothing from another host, Dutch and English, a 404 page."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedbackvault.api.security_headers import API_CSP, PAGE_CSP
from feedbackvault.app import Services, create_app
from tests.support import submission
from tests.web.support import text_of


class Links(HTMLParser):
    """Collect every src, href and action of a page, and the html element's lang."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.lang: str | None = None
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        for name in ("src", "href", "action"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if tag == "style" or any(name == "style" or name.startswith("on") for name in values):
            self.inline.append(tag)
        if tag == "script" and "src" not in values:
            self.inline.append(tag)


@pytest.fixture
def pages(client: FlaskClient, officer: dict[str, str], collector: dict[str, str]) -> list[str]:
    """Every kind of console page, with requests in each state behind them."""
    client.post("/api/v1/responses", json=submission(), headers=collector)
    made = {}
    for kind in ("access", "erasure", "rectification"):
        answer = client.post(
            "/api/v1/privacy/requests",
            json={"kind": kind, "subject": {"email": "an@example.nl"}},
            headers=officer,
        )
        made[kind] = answer.get_json()["id"]
    for kind in ("access", "erasure"):
        url = f"/api/v1/privacy/requests/{made[kind]}"
        client.post(f"{url}/verify", json={"method": "reply"}, headers=officer)
        client.post(f"{url}/fulfil", headers=officer)
    return [
        "/console/login",
        "/console/account",
        "/console/account/password",
        "/console/requests",
        "/console/requests?status=overdue",
        *(f"/console/requests/{request_id}" for request_id in made.values()),
        f"/console/requests/{made['erasure']}/certificate",
        "/console/does-not-exist",
    ]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_page_has_the_page_csp_and_loads_only_from_this_service(
    person: Callable[..., FlaskClient], pages: list[str], lang: str
) -> None:
    officer = person("privacy_officer")
    for path in pages:
        joiner = "&" if "?" in path else "?"
        answer = officer.get(f"{path}{joiner}lang={lang}", follow_redirects=True)
        assert answer.headers["Content-Security-Policy"] == PAGE_CSP, path
        assert answer.mimetype == "text/html", path
        parsed = Links()
        parsed.feed(answer.get_data(as_text=True))
        assert parsed.lang == lang, path
        assert parsed.inline == [], path
        outside = [u for u in parsed.urls if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", u, re.I)]
        assert outside == [], (path, outside)


def test_the_page_csp_allows_only_own_scripts_and_styles() -> None:
    directives = dict(part.strip().split(" ", 1) for part in PAGE_CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert "unsafe" not in PAGE_CSP


def test_the_api_keeps_its_strict_csp(client: FlaskClient) -> None:
    assert client.get("/api/v1/receipts/public-key").headers["Content-Security-Policy"] == API_CSP
    assert client.get("/api/v1/nothing").headers["Content-Security-Policy"] == API_CSP


def test_vendored_assets_are_served_by_the_service(client: FlaskClient) -> None:
    paths = ("vendor/htmx.min.js", "vendor/htmx.LICENSE", "console.css", "console.js")
    for path in paths:
        with client.get(f"/assets/{path}") as answer:
            assert answer.status_code == 200, path
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert answer.headers["Content-Security-Policy"] == PAGE_CSP


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nl", ["Inloggen", "Wachtwoord", "E-mailadres"]),
        ("en", ["Log in", "Password", "E-mail address"]),
    ],
)
def test_lang_parameter_chooses_the_language_and_the_session_remembers_it(
    app: Flask, lang: str, words: list[str]
) -> None:
    client = app.test_client()
    first = text_of(client.get(f"/console/login?lang={lang}"))
    later = client.get("/console/login", headers={"Accept-Language": "de, fr"})
    assert all(word in first for word in words)
    assert all(word in text_of(later) for word in words)
    assert f'lang="{lang}"' in later.get_data(as_text=True)


def test_accept_language_chooses_without_a_parameter(app: Flask) -> None:
    english = app.test_client().get("/console/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    dutch = app.test_client().get("/console/login", headers={"Accept-Language": "nl-NL"})
    other = app.test_client().get("/console/login", headers={"Accept-Language": "de"})
    assert "Log in to the console" in text_of(english)
    assert "Inloggen op de console" in text_of(dutch)
    assert "Inloggen op de console" in text_of(other)  # the market is Dutch


def test_an_unknown_language_is_ignored(app: Flask) -> None:
    answer = app.test_client().get("/console/login?lang=xx", headers={"Accept-Language": "en"})
    assert answer.status_code == 200
    assert "Log in to the console" in text_of(answer)


@pytest.mark.parametrize(
    ("lang", "title"), [("nl", "Pagina niet gevonden"), ("en", "Page not found")]
)
def test_a_missing_page_is_a_404_page_in_both_languages(app: Flask, lang: str, title: str) -> None:
    answer = app.test_client().get(f"/console/nothing/here?lang={lang}")
    assert answer.status_code == 404
    assert answer.mimetype == "text/html"
    assert title in text_of(answer)
    assert answer.headers["Content-Security-Policy"] == PAGE_CSP


def test_a_missing_api_address_is_still_a_problem_document(client: FlaskClient) -> None:
    answer = client.get("/api/v1/nothing")
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"


def test_an_unexpected_failure_on_a_page_is_a_page_not_json(services: Services) -> None:
    app = create_app(services=services)

    @app.route("/console/test-failure")
    def failing() -> str:
        raise RuntimeError("a bug")

    answer = app.test_client().get("/console/test-failure?lang=nl")
    assert answer.status_code == 500
    assert answer.mimetype == "text/html"
    assert "Er ging iets mis" in text_of(answer)
    assert "a bug" not in answer.get_data(as_text=True)
