"""`keys gc`: keys left by a submission that died between the two stores are shredded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from feedbackvault.app import Services
from feedbackvault.cli import main
from feedbackvault.services.orphan_keys import summary_line
from feedbackvault.settings import Settings
from feedbackvault.storage.keystore_models import SubjectKey, SubjectLookup
from tests.support import FrozenClock, submission

ORPHAN_EMAIL = "orphan-canary-5d1e@example.nl"
ORPHAN_ID = "CUST-ORPHAN-5d1e"


def crash_after_the_key_store(services: Services, email: str, customer_id: str) -> str:
    """Do what a submission does in the key store, then 'die' before the data store."""
    opened = services.subject_keys.resolve(
        services.stores, {"email": email, "customer_id": customer_id}
    )
    return opened.subject_id


@pytest.fixture
def orphan(services: Services) -> str:
    """The subject id a submission killed between the two stores left in the key store."""
    return crash_after_the_key_store(services, ORPHAN_EMAIL, ORPHAN_ID)


def key_store_rows(services: Services, subject_id: str) -> tuple[int, int]:
    """Count a subject's keys and index entries."""
    with services.stores.keys_read() as unit:
        keys = unit.session.scalar(
            select(func.count()).select_from(SubjectKey).where(SubjectKey.subject_id == subject_id)
        )
        lookups = unit.session.scalar(
            select(func.count())
            .select_from(SubjectLookup)
            .where(SubjectLookup.subject_id == subject_id)
        )
    return int(keys or 0), int(lookups or 0)


def test_an_orphaned_key_past_the_grace_period_is_shredded(
    services: Services, clock: FrozenClock, orphan: str
) -> None:
    clock.advance(hours=2)
    report = services.orphan_keys.collect(timedelta(hours=1))
    assert (report.orphans, report.keys_destroyed, report.lookups_destroyed) == (1, 1, 2)
    assert key_store_rows(services, orphan) == (0, 0)


def test_a_returning_respondent_after_gc_gets_a_new_subject(
    services: Services, clock: FrozenClock, orphan: str
) -> None:
    clock.advance(hours=2)
    services.orphan_keys.collect(timedelta(hours=1))
    again = services.subject_keys.resolve(services.stores, {"email": ORPHAN_EMAIL})
    assert again.subject_id != orphan and again.created


def test_a_young_orphan_may_still_be_in_flight_and_is_kept(
    services: Services, clock: FrozenClock, orphan: str
) -> None:
    clock.advance(minutes=30)
    report = services.orphan_keys.collect(timedelta(hours=1))
    assert (report.subjects_checked, report.orphans) == (0, 0)
    assert key_store_rows(services, orphan) == (1, 2)


def test_subjects_with_data_keep_their_keys(
    services: Services, clock: FrozenClock, client: FlaskClient, collector: dict[str, str]
) -> None:
    body = submission(respondent={"email": "kept@example.nl", "customer_id": "CUST-KEPT"})
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    orphan = crash_after_the_key_store(services, ORPHAN_EMAIL, ORPHAN_ID)
    clock.advance(days=1)
    report = services.orphan_keys.collect(timedelta(hours=1))
    assert (report.subjects_checked, report.orphans) == (2, 1)
    with services.stores.keys_read() as unit:
        remaining = set(unit.session.scalars(select(SubjectKey.subject_id)))
    assert orphan not in remaining and len(remaining) == 1


def test_a_dry_run_counts_and_destroys_nothing(
    services: Services, clock: FrozenClock, orphan: str
) -> None:
    clock.advance(hours=2)
    report = services.orphan_keys.collect(timedelta(hours=1), dry_run=True)
    assert (report.orphans, report.keys_destroyed, report.dry_run) == (1, 0, True)
    assert key_store_rows(services, orphan) == (1, 2)


def test_collection_is_audited_with_counts_only(
    services: Services, clock: FrozenClock, orphan: str
) -> None:
    clock.advance(hours=2)
    services.orphan_keys.collect(timedelta(hours=1))
    with services.databases.data_engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT subject_ref, details FROM audit_entry "
                "WHERE action = 'keys.orphans_shredded'"
            )
        ).one()
    assert row.subject_ref is None
    assert json.loads(row.details) == {"orphans": 1, "keys": 1, "lookups": 2}
    assert orphan not in row.details


def test_cli_gc_reports_counts_and_no_identifier(
    settings: Settings, services: Services, orphan: str
) -> None:
    # The CLI runs on the wall clock; a zero grace would be refused, so age the key instead.
    with services.stores.keys() as unit:
        for key in unit.session.scalars(select(SubjectKey)):
            key.created_at = key.created_at.replace(year=2000)
    env = {k: str(v) for k, v in settings.environ.items()}

    dry = CliRunner().invoke(main, ["keys", "gc", "--dry-run"], env=env)
    real = CliRunner().invoke(main, ["keys", "gc", "--grace-minutes", "5"], env=env)

    assert dry.exit_code == 0 and "dry run, nothing destroyed" in dry.output
    assert "1 of 1 keyed subject older than the grace period (60 minutes) owns no data" in (
        dry.output
    )
    assert "a real run would destroy 1 key and 2 index entries." in dry.output
    assert real.exit_code == 0 and "destroyed 1 keys and 2 index entries" in real.output
    for output in (dry.output, real.output):
        assert ORPHAN_EMAIL not in output and ORPHAN_ID not in output and orphan not in output
    assert key_store_rows(services, orphan) == (0, 0)


def test_cli_gc_refuses_a_zero_grace(settings: Settings) -> None:
    env = {k: str(v) for k, v in settings.environ.items()}
    result = CliRunner().invoke(main, ["keys", "gc", "--grace-minutes", "0"], env=env)
    assert result.exit_code == 2 and "grace-minutes" in result.output


def test_dry_run_names_the_grace_period_and_the_keys_younger_than_it(
    settings: Settings, services: Services, clock: FrozenClock
) -> None:
    # 23 submissions that died between the stores a moment ago (the CLI runs on the wall
    # clock): all inside the grace period.
    clock.moment = datetime.now(UTC)
    for number in range(23):
        crash_after_the_key_store(services, f"young-{number}@example.nl", f"CUST-{number}")
    env = {k: str(v) for k, v in settings.environ.items()}

    dry = CliRunner().invoke(main, ["keys", "gc", "--dry-run"], env=env)

    assert dry.exit_code == 0, dry.output
    assert "0 of 0 keyed subjects older than the grace period (60 minutes) own no data" in (
        dry.output
    )
    assert "a real run would destroy nothing." in dry.output
    assert "23 keys of 23 subjects are younger than 60 minutes and would be left alone" in (
        dry.output
    )
    assert "run again after 60 minutes (or with a shorter --grace-minutes)" in dry.output
    assert "young-0@example.nl" not in dry.output


def test_report_counts_young_keys_beside_the_orphans(
    services: Services, clock: FrozenClock, orphan: str
) -> None:
    clock.advance(hours=2)
    for number in range(3):
        crash_after_the_key_store(services, f"new-{number}@example.nl", f"NEW-{number}")

    dry = services.orphan_keys.collect(timedelta(hours=1), dry_run=True)
    real = services.orphan_keys.collect(timedelta(hours=1))

    assert (dry.orphans, dry.keys_found, dry.lookups_found) == (1, 1, 2)
    assert (dry.young_subjects, dry.young_keys) == (3, 3)
    assert (real.keys_destroyed, real.young_keys, real.keys_found) == (1, 3, 0)
    assert summary_line(real).endswith("Left alone: 3 keys of 3 subjects younger than 60 minutes.")
