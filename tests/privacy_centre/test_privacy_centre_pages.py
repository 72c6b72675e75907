"""The public pages: purposes in plain words, notices served exactly, the receipt's hash."""

from __future__ import annotations

import hashlib

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from feedbackvault.web.privacy_centre.words import render_notice
from tests.support import submission


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nl", ["180 dagen", "1 jaar", "30 dagen", "Verwerkingsverantwoordelijke", "Uw rechten"]),
        ("en", ["180 days", "1 year", "30 days", "Controller", "Your rights"]),
    ],
)
def test_privacy_page_names_controller_dpo_and_retention_in_words(
    web: FlaskClient, lang: str, words: list[str]
) -> None:
    html = web.get(f"/privacy?lang={lang}").get_data(as_text=True)
    for expected in [*words, "Voorbeeld B.V.", "privacy@voorbeeld.nl", "fg@voorbeeld.nl"]:
        assert expected in html
    assert f'<html lang="{lang}">' in html


def test_accept_language_picks_english_without_a_lang_parameter(web: FlaskClient) -> None:
    html = web.get("/privacy", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "180 days" in html


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_notice_page_shows_the_exact_text_and_its_sha256(
    web: FlaskClient, centre_services: Services, lang: str
) -> None:
    purpose = centre_services.policies.get("service-improvement")
    assert purpose is not None
    text = purpose.notice("2026-01", lang)
    assert text is not None and text.language == lang
    page = web.get(f"/privacy/notices/service-improvement/2026-01?lang={lang}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.sha256 in html
    raw = web.get(f"/privacy/notices/service-improvement/2026-01/raw?lang={lang}")
    assert raw.data == text.content
    assert raw.mimetype == "text/markdown"


@pytest.mark.parametrize(
    "path",
    [
        "/privacy/notices/no-such-purpose/2026-01",
        "/privacy/notices/service-improvement/1999-01",
        "/privacy/notices/service-improvement/1999-01/raw",
    ],
)
def test_unknown_notice_is_404(web: FlaskClient, path: str) -> None:
    answer = web.get(path)
    assert answer.status_code == 404
    assert "Privacy" in answer.get_data(as_text=True)


@pytest.mark.parametrize(("locale", "lang"), [("nl-NL", "nl"), ("en-GB", "en"), ("de-DE", "nl")])
def test_receipt_hash_matches_the_served_text_byte_for_byte(
    web: FlaskClient, collector: dict[str, str], locale: str, lang: str
) -> None:
    answer = web.post("/api/v1/responses", json=submission(locale=locale), headers=collector)
    assert answer.status_code == 201
    receipt = answer.get_json()["receipt"]
    served = web.get(f"/privacy/notices/service-improvement/2026-01/raw?lang={lang}").data
    assert receipt["notice_sha256"] == hashlib.sha256(served).hexdigest()


def test_notice_markdown_never_passes_raw_html_through() -> None:
    html = str(render_notice('# Hi\n\n<script>alert(1)</script>\n\n<img src=x onerror="a()">'))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_pages_load_no_third_party_asset(web: FlaskClient) -> None:
    html = web.get("/privacy?lang=en").get_data(as_text=True)
    assert "http://" not in html.replace("http://privacy.test", "")
    assert "https://" not in html
