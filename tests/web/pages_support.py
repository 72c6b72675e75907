"""Data for the scores page tests: three days of answers, one of them too few."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.support import FrozenClock, submission


def seed_scores(client: FlaskClient, collector: dict[str, str], clock: FrozenClock) -> None:
    """Submit three days of answers: 30, then 2 (too few), then 25; a rare touchpoint too."""
    plan = [(30, "checkout"), (2, "checkout"), (25, "delivery")]
    for day, (count, touchpoint) in enumerate(plan):
        for i in range(count):
            answers = {"nps": (i * 7 + day) % 11, "csat": 1 + (i + day) % 5, "ces": 1 + i % 7}
            body = submission(answers=answers, touchpoint=touchpoint)
            assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
        clock.advance(days=1)
    for i in range(2):
        body = submission(answers={"nps": 3 + i, "csat": 2, "ces": 4}, touchpoint="kiosk")
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    clock.advance(days=1)
