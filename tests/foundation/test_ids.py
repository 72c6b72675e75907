"""Stored rows get time-ordered UUIDv7 ids that say no more than the row's own timestamp."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from feedbackvault.app import Services
from feedbackvault.domain.ids import new_id
from feedbackvault.storage.data_models import Consent, Response, Subject
from tests.support import FrozenClock, submission

MOMENT = datetime(2026, 11, 24, 10, 0, 0, 123_000, tzinfo=UTC)


def millis(text: str) -> int:
    """Return the Unix milliseconds a UUIDv7 starts with."""
    return uuid.UUID(text).int >> 80


def test_id_is_a_version_7_rfc_uuid_of_its_moment() -> None:
    made = uuid.UUID(new_id(MOMENT))
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert millis(str(made)) == int(MOMENT.timestamp() * 1000)


def test_ids_sort_by_moment_and_differ_within_one() -> None:
    later = [new_id(MOMENT + timedelta(milliseconds=step)) for step in range(50)]
    same = {new_id(MOMENT) for _ in range(1000)}
    assert later == sorted(later)
    assert len(same) == 1000


def test_submission_rows_are_named_for_their_recording_moment(
    services: Services, client: FlaskClient, collector: dict[str, str], clock: FrozenClock
) -> None:
    body = submission(respondent={"email": "ids@example.nl"})
    answer = client.post("/api/v1/responses", json=body, headers=collector)
    assert answer.status_code == 201

    with services.stores.read() as unit:
        ids = [
            *unit.session.scalars(select(Response.id)),
            *unit.session.scalars(select(Consent.id)),
            *unit.session.scalars(select(Subject.id)),
        ]
    recorded_ms = int(clock.now().replace(microsecond=0).timestamp() * 1000)
    assert len(ids) == 3
    assert {(uuid.UUID(i).version, millis(i) // 1000) for i in ids} == {(7, recorded_ms // 1000)}
