"""Steps of the request journey shared by the privacy centre's tests."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.privacy_centre.conftest import csrf_of
from tests.privacy_centre.mail_sink import Sink, link_in


def ask(web: FlaskClient, email: str, kind: str = "access", lang: str = "en") -> TestResponse:
    """Post the request form as a browser would (GET for the CSRF token first)."""
    token = csrf_of(web.get(f"/privacy/request?lang={lang}").get_data(as_text=True))
    return web.post("/privacy/request", data={"csrf_token": token, "email": email, "kind": kind})


def path_of(url: str) -> str:
    """Return the path of an e-mailed link (the test client serves any host)."""
    return urlsplit(url).path


def follow(web: FlaskClient, url: str) -> TestResponse:
    """Open an e-mailed link and press its button."""
    shown = web.get(path_of(url))
    assert shown.status_code == 200, shown.status_code
    token = csrf_of(shown.get_data(as_text=True))
    return web.post(path_of(url), data={"csrf_token": token})


def confirmed_request(web: FlaskClient, mail: Sink, email: str, kind: str) -> str:
    """Ask, follow the e-mailed link and return the new request's id."""
    before = len(mail.to(email))
    assert ask(web, email, kind).status_code == 303
    message = mail.wait_for(email, before + 1)[-1]
    done = follow(web, link_in(message, "confirm"))
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    marker = "Request number: "
    return html[html.index(marker) + len(marker) :].split("<", 1)[0].strip()


def fulfil(web: FlaskClient, officer: dict[str, str], request_id: str) -> dict[str, Any]:
    """Fulfil a request as a privacy officer does through the API."""
    answer = web.post(f"/api/v1/privacy/requests/{request_id}/fulfil", headers=officer)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body: dict[str, Any] = json.loads(answer.get_data())
    return body
