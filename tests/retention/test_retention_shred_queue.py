"""The shred queue: a returning respondent never writes under a shredded key; nothing is lost."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from feedbackvault.app import Services, create_app
from feedbackvault.domain.clock import isoformat_z
from feedbackvault.services.collection import CollectionService
from feedbackvault.services.retention import SweepReport
from feedbackvault.services.subject_keys import OpenSubject, SubjectKeys
from feedbackvault.storage.data_models import Response
from feedbackvault.storage.keystore_models import SubjectKey
from feedbackvault.storage.units import Stores
from tests.privacy.test_privacy_access import fulfilled_access
from tests.support import FrozenClock, submission

RESPONDENT = {"email": "returns@example.nl"}
COMMENT = "Tweede keer, weer snel geholpen."


class KeysThenInterruption(SubjectKeys):
    """Subject keys that run one interruption right after a respondent's key is read."""

    def __init__(self, keys: SubjectKeys, interruption: Callable[[], object]) -> None:
        super().__init__(keys.provider, keys.index, keys.clock)
        self.pending = [interruption]

    def resolve(self, stores: Stores, identifiers: Mapping[str, str]) -> OpenSubject:
        """Read the key as usual, then let the interruption run before the caller stores."""
        subject = super().resolve(stores, identifiers)
        if self.pending:
            self.pending.pop()()
        return subject


def subject_ids(services: Services) -> list[str | None]:
    """Return the subject id of every stored response."""
    with services.stores.read() as unit:
        return list(unit.session.scalars(select(Response.subject_id)))


def key_count(services: Services, subject_id: str) -> int:
    """Count the data keys stored for one subject."""
    with services.stores.keys_read() as unit:
        keys = unit.session.scalars(select(SubjectKey).where(SubjectKey.subject_id == subject_id))
        return len(list(keys))


def test_response_stored_while_its_subject_is_shredded_goes_to_a_new_subject(
    services: Services,
    client: FlaskClient,
    clock: FrozenClock,
    collector: dict[str, str],
    officer: dict[str, str],
) -> None:
    first = submission(purpose="service-improvement", respondent=RESPONDENT)
    assert client.post("/api/v1/responses", json=first, headers=collector).status_code == 201
    [old_subject] = subject_ids(services)
    clock.advance(days=181)
    sweeps: list[SweepReport] = []
    keys = KeysThenInterruption(
        services.subject_keys, lambda: sweeps.append(services.retention.sweep())
    )
    collection = CollectionService(
        services.stores, services.policies, keys, services.signer, services.clock
    )
    racing_services = copy.copy(services)
    racing_services.collection = collection
    racing = create_app(services=racing_services).test_client()
    answers = {"csat": 5, "comment": COMMENT}
    consent = {**first["consent"], "given_at": isoformat_z(clock.now() - timedelta(minutes=1))}
    second = submission(respondent=RESPONDENT, answers=answers, consent=consent)

    stored = racing.post("/api/v1/responses", json=second, headers=collector)

    assert stored.status_code == 201, stored.get_json()
    [report] = sweeps
    assert (report.anonymised["service-improvement"], report.subjects_shredded) == (1, 1)
    new_subjects = {sid for sid in subject_ids(services) if sid is not None}
    assert len(new_subjects) == 1
    assert old_subject not in new_subjects
    assert (key_count(services, old_subject or ""), key_count(services, new_subjects.pop())) == (
        0,
        1,
    )
    # The respondent's new response opens with the new key: nothing was written under the old.
    _, body = fulfilled_access(client, officer, RESPONDENT)
    [exported] = body["export"]["responses"]
    assert exported["answers"]["comment"] == COMMENT


def test_subjects_an_interrupted_sweep_left_queued_are_shredded_by_the_next(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    body = submission(purpose="service-improvement", respondent=RESPONDENT)
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    [subject_id] = subject_ids(services)
    clock.advance(days=181)
    # A sweep interrupted right after its batch committed: the rows are anonymised and the
    # subject queued, but no shredder has come to it.
    with services.stores.data() as unit:
        batch = unit.retention.sweep_expired_responses(
            clock.now(), 100, ["service-improvement"], anonymising=True
        )
    assert batch.anonymised["service-improvement"] == 1
    with services.stores.read() as unit:
        assert unit.retention.count_queued() == 1

    report = services.retention.sweep()

    assert (report.responses_handled, report.subjects_shredded) == (0, 1)
    assert key_count(services, subject_id or "") == 0
    with services.stores.read() as unit:
        assert unit.retention.count_queued() == 0
