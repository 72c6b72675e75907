"""On PostgreSQL, the sweep passes over a subject a submission holds, and comes back to it.

SQLite runs one writer at a time, so there a sweep cannot start while a submission writes.
"""

from __future__ import annotations

import threading

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from feedbackvault.services.retention import SweepReport
from feedbackvault.storage.collection_repository import SubmissionRows
from feedbackvault.storage.driver_statements import driver_cursor
from tests.retention.test_retention_shred_queue import RESPONDENT, key_count, subject_ids
from tests.support import FrozenClock, submission


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_sweep_passes_over_a_subject_a_submission_holds(
    services: Services,
    client: FlaskClient,
    clock: FrozenClock,
    collector: dict[str, str],
) -> None:
    body = submission(purpose="service-improvement", respondent=RESPONDENT)
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    [subject_id] = subject_ids(services)
    assert subject_id is not None
    clock.advance(days=181)
    reports: list[SweepReport] = []

    with services.stores.data() as unit:
        assert SubmissionRows(driver_cursor(unit.session)).hold_subject(subject_id, clock.now())
        sweeper = threading.Thread(target=lambda: reports.append(services.retention.sweep()))
        sweeper.start()
        sweeper.join(timeout=30)
        assert not sweeper.is_alive(), "the sweep waited for the held subject"

    [while_held] = reports
    assert (while_held.anonymised["service-improvement"], while_held.subjects_shredded) == (1, 0)
    assert key_count(services, subject_id) == 1
    # Once the submission is over (here it stored nothing), the next sweep shreds the subject.
    assert services.retention.sweep().subjects_shredded == 1
    assert key_count(services, subject_id) == 0
