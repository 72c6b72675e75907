"""Several sweep processes at once handle every expired row exactly once, without deadlock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select, update

from feedbackvault.app import Services
from feedbackvault.settings import Settings
from feedbackvault.storage.data_models import AuditEntry, Consent, Response
from tests.support import row_counts, submission

# PostgreSQL: the load (three processes, 50,000 rows). SQLite serialises
# writers, so two processes over fewer rows prove the same property there.
LOAD = {"postgresql": (3, 50_000), "sqlite": (2, 5_000)}
# Processes that must have found work: SQLite runs them one after the other.
BUSY = {"postgresql": 2, "sqlite": 1}
REAL_SUBJECTS = 20
BATCH_SIZE = 2_000
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def seed_expired(services: Services, count: int) -> int:
    """Insert `count` bare expired responses, half of each on-expiry mode; return anonymisable."""
    rows = [
        {
            "id": str(uuid.uuid4()),
            "survey_id": "bulk",
            "purpose": "service-improvement" if index % 2 else "product-research",
            "touchpoint": "web",
            "nps": index % 11,
            "created_at": LONG_AGO,
            "created_month": date(2000, 1, 1),
            "expires_at": LONG_AGO + timedelta(seconds=index),
        }
        for index in range(count)
    ]
    with services.stores.data() as unit:
        unit.session.execute(insert(Response), rows)
    return sum(1 for row in rows if row["purpose"] == "service-improvement")


def submit_expired_subjects(
    services: Services, client: FlaskClient, collector: dict[str, str]
) -> None:
    """Submit REAL_SUBJECTS real, encrypted responses (consents, keys), then expire them."""
    for index in range(REAL_SUBJECTS):
        body = submission(respondent={"email": f"p{index}@example.nl"})
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    with services.stores.data() as unit:
        unit.session.execute(update(Response).values(expires_at=LONG_AGO))
        unit.session.execute(update(Consent).values(expires_at=LONG_AGO))


def test_parallel_sweeps_handle_every_row_exactly_once(
    services: Services,
    settings: Settings,
    backend: str,
    client: FlaskClient,
    collector: dict[str, str],
) -> None:
    processes, count = LOAD[backend]
    submit_expired_subjects(services, client, collector)
    anonymisable = seed_expired(services, count) + REAL_SUBJECTS
    env = {**os.environ, **{k: str(v) for k, v in settings.environ.items()}}
    command = [sys.executable, "-m", "feedbackvault.cli", "retention", "sweep"]

    runs = [
        subprocess.Popen(
            [*command, "--batch-size", str(BATCH_SIZE)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outcomes = [(run.wait(timeout=300), *run.communicate()) for run in runs]

    assert [code for code, _out, _err in outcomes] == [0] * processes, outcomes
    # Each process prints "<n> responses in ..."; on PostgreSQL they share the work.
    busy = [out for _code, out, _err in outcomes if not out.splitlines()[-1].startswith("0 ")]
    assert len(busy) >= BUSY[backend], outcomes
    with services.stores.read() as unit:
        details = [
            json.loads(text)
            for text in unit.session.scalars(
                select(AuditEntry.details).where(AuditEntry.action.like("retention.%"))
            )
        ]
        anonymised_rows = unit.session.scalar(
            select(func.count()).where(Response.anonymised_at.is_not(None))
        )
    swept = [sum(d.get(key, {}).values()) for d in details for key in ("deleted", "anonymised")]
    counts = row_counts(services)
    assert sum(swept) == count + REAL_SUBJECTS
    assert counts["data.response"] == anonymised_rows == anonymisable
    assert (counts["data.consent"], counts["data.subject"], counts["keys.subject_key"]) == (0, 0, 0)
    assert sum(d.get("subjects_shredded", 0) for d in details) == REAL_SUBJECTS


def test_sweepers_side_by_side_in_one_process_handle_every_row_once(
    services: Services, client: FlaskClient, collector: dict[str, str]
) -> None:
    submit_expired_subjects(services, client, collector)
    count = 6_000
    anonymisable = seed_expired(services, count) + REAL_SUBJECTS

    report = services.retention.sweep(batch_size=500, workers=3)

    counts = row_counts(services)
    assert report.responses_handled == count + REAL_SUBJECTS
    assert sum(report.anonymised.values()) == counts["data.response"] == anonymisable
    assert (report.subjects_shredded, counts["data.subject"], counts["keys.subject_key"]) == (
        REAL_SUBJECTS,
        0,
        0,
    )
    # On PostgreSQL the three sweepers shared the batches; SQLite swept alone.
    assert report.batches >= count // 500


def test_sweep_refuses_zero_workers(services: Services) -> None:
    with pytest.raises(ValueError, match="workers"):
        services.retention.sweep(workers=0)
