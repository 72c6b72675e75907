"""The audit, register, purposes and scores pages: who sees them, what they show, bad input."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from feedbackvault.app import Services
from feedbackvault.storage.data_models import AuditEntry
from tests.support import FrozenClock, behind_the_app, submission
from tests.web.pages_support import seed_scores
from tests.web.support import text_of

PAGES = ("/console/audit", "/console/register", "/console/purposes", "/console/scores")
OFFICER_PAGES = (
    "/console/audit",
    "/console/audit/verify",
    "/console/register",
    "/console/register.md",
    "/console/purposes",
)
ANALYST_PAGES = ("/console/scores", "/console/scores.csv")


@pytest.mark.parametrize("path", OFFICER_PAGES + ANALYST_PAGES)
def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login")


@pytest.mark.parametrize("role", ["privacy_officer", "auditor", "analyst", "follow_up"])
@pytest.mark.parametrize("path", OFFICER_PAGES + ANALYST_PAGES)
def test_each_page_answers_only_its_roles(
    person: Callable[..., FlaskClient], role: str, path: str
) -> None:
    allowed = ("analyst",) if path in ANALYST_PAGES else ("privacy_officer", "auditor")
    response = person(role).get(path)
    if role in allowed:
        # An analyst with no release yet gets the page; its CSV has nothing to hold (404).
        assert response.status_code in ((200, 404) if path.endswith(".csv") else (200,))
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_nothing_from_elsewhere_and_run_no_inline_script(
    person: Callable[..., FlaskClient], path: str
) -> None:
    role = "analyst" if path == "/console/scores" else "privacy_officer"
    response = person(role).get(path)
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    for link in re.findall(r'(?:src|href|action)="([^"]*)"', html):
        assert not re.match(r"(?i)^(https?:)?//", link), link


# Audit


def test_the_audit_log_lists_newest_first_with_short_hashes(
    person: Callable[..., FlaskClient], client: FlaskClient, collector: dict[str, str]
) -> None:
    for _ in range(3):
        assert (
            client.post("/api/v1/responses", json=submission(), headers=collector).status_code
            == 201
        )
    page = person("auditor").get("/console/audit")
    html = page.get_data(as_text=True)
    seqs = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', html)]
    assert seqs == sorted(seqs, reverse=True)
    assert "response.recorded" in html
    assert re.search(r'<code title="[0-9a-f]{64}">[0-9a-f]{12}</code>', html)
    assert "an@example.nl" not in html


def test_the_audit_log_pages_by_key_and_keeps_the_filters(
    person: Callable[..., FlaskClient], services: Services
) -> None:
    with services.stores.data() as unit:
        for i in range(120):
            unit.audit.append(at=services.clock.now(), actor="t", action=f"test.{'ab'[i % 2]}")
    officer = person("privacy_officer")
    first = officer.get("/console/audit?action=test.a").get_data(as_text=True)
    older = re.search(r'href="(/console/audit\?[^"]*older=\d+[^"]*)"', first)
    assert older
    link = older.group(1).replace("&amp;", "&")
    assert "action=test.a" in link
    second = text_of(officer.get(link))
    assert "test.b" not in second
    assert "test.a" in second


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01",
        "to=yesterday",
        "subject=%3Cscript%3E",
        "older=-5",
        "from=2026-12-02&to=2026-12-01",
    ],
)
def test_a_bad_audit_filter_gets_a_400_page_that_says_what_is_wrong(
    person: Callable[..., FlaskClient], query: str
) -> None:
    response = person("privacy_officer").get(f"/console/audit?{query}&lang=en")
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)
    assert "Correct the filters" in text_of(response)


def test_verifying_an_intact_chain_says_up_to_which_entry(
    person: Callable[..., FlaskClient], client: FlaskClient, collector: dict[str, str]
) -> None:
    client.post("/api/v1/responses", json=submission(), headers=collector)
    auditor = person("auditor")
    text = text_of(auditor.get("/console/audit/verify?lang=nl"))
    head = int(re.search(r"intact tot en met #(\d+)", text).group(1))  # type: ignore[union-attr]
    assert head >= 2


def test_an_auditor_downloads_an_anchor_that_exposes_a_later_rollback(
    person: Callable[..., FlaskClient],
    client: FlaskClient,
    collector: dict[str, str],
    services: Services,
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from feedbackvault.cli import main
    from tests.foundation.test_audit_anchors import roll_back_to

    client.post("/api/v1/responses", json=submission(), headers=collector)
    answer = person("auditor").get("/console/audit/anchor.json")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["Content-Disposition"]
    anchor = tmp_path / "anchor.json"
    anchor.write_bytes(answer.get_data())
    env = dict(services.settings.environ)
    verify = ["audit", "verify", "--anchor", str(anchor)]
    assert CliRunner().invoke(main, verify, env=env).exit_code == 0
    roll_back_to(services, answer.get_json()["seq"] - 1)
    result = CliRunner().invoke(main, verify, env=env)
    assert result.exit_code != 0
    assert answer.get_json()["hash"] in result.output


def test_verifying_a_tampered_chain_names_the_first_broken_entry(
    person: Callable[..., FlaskClient],
    client: FlaskClient,
    collector: dict[str, str],
    services: Services,
) -> None:
    for _ in range(3):
        client.post("/api/v1/responses", json=submission(), headers=collector)
    behind_the_app(services, update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory"))
    text = text_of(person("auditor").get("/console/audit/verify?lang=en"))
    assert "entry #2 is the first that fails" in text
    assert "does not match its hash" in text


def follow_the_check(browser: FlaskClient) -> tuple[str, int]:
    """Load "verify chain" and follow "continue checking" to the verdict; count the steps."""
    html = browser.get("/console/audit/verify?lang=en").get_data(as_text=True)
    steps = 1
    while (found := re.search(r'href="(/console/audit/verify\?at=[^"]+)"', html)) is not None:
        html = browser.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)
        steps += 1
    return html, steps


def test_a_long_chain_is_checked_a_stretch_per_request_to_the_same_verdict(
    person: Callable[..., FlaskClient],
    app: Flask,
    client: FlaskClient,
    collector: dict[str, str],
    services: Services,
) -> None:
    app.config["AUDIT_VERIFY_STRETCH"] = 3
    for _ in range(6):
        client.post("/api/v1/responses", json=submission(), headers=collector)
    auditor = person("auditor")
    html, steps = follow_the_check(auditor)
    with services.stores.read() as unit:
        last = unit.audit.head()[0]
    assert f"The chain is intact up to #{last}." in text_of_html(html)
    assert steps == -(-last // 3)
    behind_the_app(services, update(AuditEntry).where(AuditEntry.seq == 7).values(action="x.y"))
    html, _ = follow_the_check(auditor)
    assert "intact up to #6; entry #7 is the first that fails" in text_of_html(html)


def test_a_hand_made_checkpoint_is_refused(person: Callable[..., FlaskClient]) -> None:
    response = person("auditor").get("/console/audit/verify?at=WzEwMCwiYWJjIl0")
    assert response.status_code == 400


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# Register


@pytest.mark.parametrize(
    ("lang", "title", "basis"),
    [
        ("nl", "Verwerkingsregister", "Toestemming (art. 6 lid 1 sub a AVG)"),
        ("en", "Record of processing activities", "Consent (Art. 6(1)(a))"),
    ],
)
def test_the_register_is_in_the_pages_language_and_downloads_as_markdown(
    person: Callable[..., FlaskClient], lang: str, title: str, basis: str
) -> None:
    auditor = person("auditor")
    page = text_of(auditor.get(f"/console/register?lang={lang}"))
    assert title in page
    assert basis in page
    download = auditor.get(f"/console/register.md?lang={lang}")
    assert download.mimetype == "text/markdown"
    assert "attachment" in download.headers["Content-Disposition"]
    markdown = download.get_data(as_text=True)
    assert markdown.startswith(f"# {title}")
    assert f"**{'Grondslag' if lang == 'nl' else 'Legal basis'}:** {basis}" in markdown


# Purposes


def test_purposes_show_live_counts_and_the_expiry_forecast(
    person: Callable[..., FlaskClient],
    client: FlaskClient,
    collector: dict[str, str],
    clock: FrozenClock,
) -> None:
    body = submission(purpose="support-follow-up", answers={"csat": 4})
    for _ in range(3):
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    clock.advance(days=25)
    html = person("privacy_officer").get("/console/purposes?lang=nl").get_data(as_text=True)
    row = re.search(r"support-follow-up</code></a></th>(.*?)</tr>", html, re.DOTALL)
    assert row
    cells = re.findall(r'<td class="num">(\d+)</td>', row.group(1))
    assert cells == ["3", "3", "3"]
    assert "30 dagen" in row.group(1)


# Scores


def test_an_analyst_without_releases_learns_when_days_are_released(
    person: Callable[..., FlaskClient],
) -> None:
    text = text_of(person("analyst").get("/console/scores?lang=en"))
    assert "A day is released after it has closed" in text


def test_an_analyst_sees_bands_n_and_the_suppressed_day_named(
    person: Callable[..., FlaskClient],
    client: FlaskClient,
    collector: dict[str, str],
    clock: FrozenClock,
) -> None:
    seed_scores(client, collector, clock)
    page = person("analyst").get(
        "/console/scores?lang=nl&survey=checkout-2026-q4&metric=nps&period=day"
        "&from=2026-11-21&to=2026-11-27"
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    chart = html[
        html.index('id="time-chart"') : html.index("</svg>", html.index('id="time-chart"'))
    ]
    assert 'class="chart-band"' in chart
    assert "te weinig reacties" in chart
    # Released counts may carry noise, and which days are withheld is the release's
    # business; days before the first response are withheld whatever it does, and no
    # day is drawn with fewer than k responses.
    shown = [int(n) for n in re.findall(r">n=(\d+)<", chart)]
    assert shown
    assert all(n >= 10 for n in shown)
    text = text_of(page)
    assert "Vrijgegeven tot en met" in text
    assert "kiosk" not in text


def test_the_scores_csv_holds_what_is_shown_for_dutch_excel(
    person: Callable[..., FlaskClient],
    client: FlaskClient,
    collector: dict[str, str],
    clock: FrozenClock,
) -> None:
    seed_scores(client, collector, clock)
    response = person("analyst").get(
        "/console/scores.csv?lang=nl&survey=checkout-2026-q4&metric=nps&period=day"
        "&from=2026-11-21&to=2026-11-27"
    )
    assert response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    days = {row[0]: row for row in rows if row and re.fullmatch(r"2026-11-2\d", row[0])}
    assert sorted(days) == [f"2026-11-2{d}" for d in range(1, 8)]
    assert days["2026-11-21"][1:] == ["", "", "", "", "te weinig reacties"]
    published = [row for row in days.values() if row[1]]
    assert published
    assert all(int(row[1]) >= 10 and row[5] == "" for row in published)


@pytest.mark.parametrize(
    "query",
    [
        "survey=unknown",
        "survey=checkout-2026-q4&survey=other",
        "metric=sentiment",
        "period=hour",
        "from=2026-11-31",
        "from=2026-11-27&to=2026-11-24",
        "selected=1999-01-01",
    ],
)
def test_bad_scores_parameters_get_a_400_page(
    person: Callable[..., FlaskClient],
    client: FlaskClient,
    collector: dict[str, str],
    clock: FrozenClock,
    query: str,
) -> None:
    seed_scores(client, collector, clock)
    if not query.startswith("survey="):
        query = f"survey=checkout-2026-q4&{query}"
    response = person("analyst").get(f"/console/scores?{query}")
    assert response.status_code == 400
