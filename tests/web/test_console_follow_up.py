"""The follow-up pages: the queue, unhappy first; one item; marking it done with a note."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from feedbackvault.app import Services
from feedbackvault.storage.data_models import AUDIT_ENTRY, FOLLOW_UP
from tests.follow_up.support import follow_up_body, submit
from tests.support import FrozenClock, submission
from tests.web.support import csrf_token, text_of


@pytest.fixture
def seeded(client: FlaskClient, collector: dict[str, str], clock: FrozenClock) -> dict[str, str]:
    """A happy and an unhappy respondent under the follow-up purpose, and one elsewhere."""
    happy = submit(client, collector, follow_up_body(email="blij@example.nl", csat=5, ces=7))
    clock.advance(minutes=1)
    unhappy = submit(client, collector, follow_up_body(email="boos@example.nl", csat=1, ces=2))
    clock.advance(minutes=1)
    other = submit(client, collector, submission(respondent={"email": "anders@example.nl"}))
    return {
        "happy": happy["response_id"],
        "unhappy": unhappy["response_id"],
        "other": other["response_id"],
    }


def test_queue_lists_unhappy_first_with_contact_and_comment_in_dutch(
    person: Callable[..., FlaskClient], seeded: dict[str, str]
) -> None:
    page = person("follow_up").get("/console/follow-up?lang=nl")
    assert page.status_code == 200
    text = text_of(page)
    assert "Opvolging" in text and "Ontevreden eerst" in text
    assert text.index("boos@example.nl") < text.index("blij@example.nl")
    assert "Niemand belde terug." in text
    assert "anders@example.nl" not in text


def test_filters_by_metric_and_maximum_score(
    person: Callable[..., FlaskClient], seeded: dict[str, str]
) -> None:
    text = text_of(person("follow_up").get("/console/follow-up?metric=csat&max_score=2&lang=en"))
    assert "boos@example.nl" in text and "blij@example.nl" not in text


@pytest.mark.parametrize(
    "query",
    [
        "status=closed",
        "metric=xyz",
        "max_score=3",
        "metric=nps&max_score=99",
        "cursor=x",
        "survey_id=a%00b",
    ],
)
def test_a_filter_the_page_never_offers_is_a_400_page(
    person: Callable[..., FlaskClient], query: str
) -> None:
    answer = person("follow_up").get(f"/console/follow-up?{query}")
    assert answer.status_code == 400
    assert answer.mimetype == "text/html"


def test_marking_done_with_a_note_stores_it_encrypted_and_audits_the_account(
    person: Callable[..., FlaskClient], seeded: dict[str, str], services: Services
) -> None:
    browser = person("follow_up", "desk@voorbeeld.nl")
    item = f"/console/follow-up/{seeded['unhappy']}"
    shown = browser.get(f"{item}?lang=en")
    assert "boos@example.nl" in text_of(shown)
    token = csrf_token(browser, item)
    done = browser.post(f"{item}/done", data={"csrf_token": token, "note": "Gebeld: opgelost"})
    assert (done.status_code, done.location) == (302, "/console/follow-up")
    after = browser.get(f"{item}?lang=en")
    assert "Gebeld: opgelost" in text_of(after)
    assert "Mark as done" not in text_of(after)
    with services.stores.read() as unit:
        [row] = unit.session.execute(select(FOLLOW_UP)).all()
        actors = {
            (r.action, r.actor)
            for r in unit.session.execute(select(AUDIT_ENTRY.c.action, AUDIT_ENTRY.c.actor))
        }
        details = [r.details for r in unit.session.execute(select(AUDIT_ENTRY.c.details))]
    assert b"Gebeld" not in bytes(row.note_ct)
    assert row.done_by == "account:desk@voorbeeld.nl"
    assert ("follow_up.done", "account:desk@voorbeeld.nl") in actors
    assert ("follow_up.shown", "account:desk@voorbeeld.nl") in actors
    assert not any("Gebeld" in d or "boos@" in d for d in details)
    assert all(isinstance(json.loads(d), dict) for d in details)


def test_a_post_without_csrf_or_note_changes_nothing(
    person: Callable[..., FlaskClient], seeded: dict[str, str], services: Services
) -> None:
    browser = person("follow_up")
    item = f"/console/follow-up/{seeded['unhappy']}"
    assert browser.post(f"{item}/done", data={"note": "x"}).status_code == 400
    token = csrf_token(browser, item)
    empty = browser.post(f"{item}/done", data={"csrf_token": token, "note": ""})
    assert empty.status_code == 400
    assert "error" in empty.get_data(as_text=True)
    with services.stores.read() as unit:
        assert unit.session.execute(select(FOLLOW_UP)).all() == []


def test_an_item_outside_a_follow_up_purpose_is_a_404_page(
    person: Callable[..., FlaskClient], seeded: dict[str, str]
) -> None:
    answer = person("follow_up").get(f"/console/follow-up/{seeded['other']}")
    assert answer.status_code == 404
    assert "anders@example.nl" not in answer.get_data(as_text=True)


def test_an_empty_queue_explains_how_items_arrive(person: Callable[..., FlaskClient]) -> None:
    text = text_of(person("follow_up").get("/console/follow-up?lang=en"))
    assert "Nothing to follow up" in text and "follow_up: true" in text


@pytest.mark.parametrize("suffix", ["", "/done"])
def test_an_id_with_nul_is_a_404_page(person: Callable[..., FlaskClient], suffix: str) -> None:
    browser = person("follow_up")
    if suffix:
        token = csrf_token(browser, "/console/account")
        answer = browser.post(f"/console/follow-up/a%00b{suffix}", data={"csrf_token": token})
    else:
        answer = browser.get("/console/follow-up/a%00b")
    assert answer.status_code == 404
