"""The retention sweep erases or anonymises what expired and shreds subjects left empty."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from feedbackvault.app import Services, create_app
from feedbackvault.cli import main
from feedbackvault.services.audit import verify_chain
from feedbackvault.settings import Settings
from feedbackvault.storage.data_models import AuditEntry, Response
from tests.support import (
    CONTROLLER_YAML,
    FrozenClock,
    notices_yaml,
    row_counts,
    stored_bytes,
    submission,
    write_policies,
)

DAY = 86_400
CANARY_EMAIL = "canary-7f3a@example.nl"
CANARY_NAME = "Kanarie Zevenvrouw"
CANARY_ID = "CANARY-0042"
CANARY_COMMENT = "canary comment 91c2: the parcel was late"
CANARIES = [CANARY_EMAIL, CANARY_NAME, CANARY_ID, CANARY_COMMENT]

NOTICES = notices_yaml().replace("{", "{{").replace("}", "}}")
POLICY = (
    CONTROLLER_YAML
    + """\
aggregation:
  k: 10
purposes:
  short-consent:
    description: A purpose whose consent record is kept shorter than its responses.
    legal_basis: consent
    notice_versions: ["2026-01"]
    retention: P180D
    consent_retention: P10D
    personal_fields: [email, comment]
    metrics: [nps]
    aggregate: true
    on_expiry: anonymise
"""
    + NOTICES
    + """\
  service-improvement:
    description: Improve our customer service with your feedback.
    legal_basis: consent
    notice_versions: ["2026-01"]
    retention: {retention}
    personal_fields: [email, name, customer_id, comment]
    metrics: [nps, csat, ces]
    aggregate: true
    on_expiry: anonymise
"""
    + NOTICES
)


def canary_body(purpose: str = "service-improvement", **answers: int) -> dict[str, object]:
    """Build a submission whose every personal field is a canary."""
    respondent: dict[str, str] = {"email": CANARY_EMAIL}
    if purpose == "service-improvement":
        respondent |= {"name": CANARY_NAME, "customer_id": CANARY_ID}
    metrics = answers or {"nps": 9}
    return submission(
        purpose=purpose,
        respondent=respondent,
        answers={**metrics, "comment": CANARY_COMMENT},
    )


def post(client: FlaskClient, collector: dict[str, str], body: dict[str, object]) -> str:
    """Submit a response and return its id."""
    response = client.post("/api/v1/responses", json=body, headers=collector)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["response_id"])


def responses(services: Services) -> list[Response]:
    """Load every stored response."""
    with services.stores.read() as unit:
        return list(unit.session.scalars(select(Response)))


def sweep_details(services: Services) -> list[dict[str, object]]:
    """Return the details of every `retention.swept` audit entry."""
    with services.stores.read() as unit:
        rows = unit.session.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "retention.swept")
        )
        return [json.loads(text) for text in rows]


@pytest.fixture
def policy_services(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> Iterator[tuple[Services, FlaskClient, dict[str, str]]]:
    """Services under the test policy (P180D), with a client and collector headers."""
    folder = tmp_path / "policies"
    folder.mkdir()
    write_policies(folder, POLICY.format(retention="P180D"))
    built = Services.build(dataclasses.replace(settings, policies_dir=folder), clock=clock)
    headers = {"Authorization": f"Bearer {built.tokens.create('collector', 'frontend')}"}
    yield built, create_app(services=built).test_client(), headers
    built.databases.dispose()


def test_anonymised_response_keeps_only_scores_survey_touchpoint_and_month(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    old_id = post(client, collector, canary_body(nps=7, csat=4, ces=5))
    clock.advance(days=180, seconds=1)

    report = services.retention.sweep()

    (row,) = responses(services)
    kept = (row.survey_id, row.touchpoint, row.created_month.isoformat(), row.nps, row.csat)
    assert kept == ("checkout-2026-q4", "checkout", "2026-11-01", 7, 4)
    dropped = (row.subject_id, row.consent_id, row.created_at, row.locale, row.email_ct)
    assert dropped == (None, None, None, None, None)
    assert (row.name_ct, row.customer_id_ct, row.comment_ct) == (None, None, None)
    # The consent record's expiry is its recording moment plus a retention, too.
    assert row.consent_expires_at is None
    assert row.id != old_id
    # The real expiry would give the recording moment back (recorded + retention).
    assert row.expires_at.year == 9999
    assert report.anonymised["service-improvement"] == 1


def test_anonymised_response_cannot_be_tied_to_a_subject_in_any_table(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body())
    clock.advance(days=180, seconds=1)

    services.retention.sweep()

    (row,) = responses(services)
    counts = row_counts(services)
    # Its new id is nowhere but in its own row; no subject, consent or key is left.
    assert stored_bytes(services).count(row.id.encode()) == 1
    assert (counts["data.subject"], counts["data.consent"]) == (0, 0)
    assert (counts["keys.subject_key"], counts["keys.subject_lookup"]) == (0, 0)


def test_deleted_response_leaves_no_canary_and_no_ciphertext(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body("product-research", nps=3))
    (stored,) = responses(services)
    ciphertexts = [stored.email_ct, stored.comment_ct]
    clock.advance(days=366)

    report = services.retention.sweep()

    everything = stored_bytes(services)
    assert report.deleted["product-research"] == 1
    assert responses(services) == []
    assert not [c for c in ciphertexts if c and c in everything]
    assert not [c for c in CANARIES if c.encode() in everything]


def test_subject_kept_while_its_consent_record_lasts_then_shredded(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    # product-research keeps responses a year and consent records three years.
    post(client, collector, canary_body("product-research", nps=3))
    clock.advance(days=366)
    services.retention.sweep()
    kept = row_counts(services)
    clock.advance(days=3 * 366)

    report = services.retention.sweep()

    after = row_counts(services)
    assert (kept["data.consent"], kept["data.subject"], kept["keys.subject_key"]) == (1, 1, 1)
    assert (after["data.consent"], after["data.subject"], after["keys.subject_key"]) == (0, 0, 0)
    assert (after["keys.subject_lookup"], after["keys.key_tombstone"]) == (0, 1)
    assert after["data.erasure_tombstone"] == 1
    assert report.subjects_shredded == 1


def test_subject_with_a_live_response_is_not_shredded(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body())
    clock.advance(days=100)
    post(client, collector, canary_body())
    clock.advance(days=81)

    report = services.retention.sweep()

    counts = row_counts(services)
    assert (report.responses_handled, report.subjects_shredded) == (1, 0)
    assert (counts["data.subject"], counts["keys.subject_key"]) == (1, 1)


def test_consent_expiring_first_takes_its_live_response_with_it(
    policy_services: tuple[Services, FlaskClient, dict[str, str]], clock: FrozenClock
) -> None:
    services, client, collector = policy_services
    post(client, collector, canary_body("short-consent"))
    clock.advance(days=10, seconds=1)

    report = services.retention.sweep()

    (row,) = responses(services)
    assert row.anonymised_at is not None
    assert report.consent_expired_responses["short-consent"] == 1
    assert report.consents_removed["short-consent"] == 1


def test_dry_run_counts_and_changes_nothing(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body())
    post(client, collector, canary_body("product-research"))
    clock.advance(days=366)
    before = stored_bytes(services)

    report = services.retention.sweep(dry_run=True)

    counted = (report.anonymised["service-improvement"], report.deleted["product-research"])
    assert (counted, report.subjects_shredded) == ((1, 1), 0)
    assert stored_bytes(services) == before


def test_second_sweep_finds_nothing_left(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    for _ in range(3):
        post(client, collector, canary_body())
    clock.advance(days=181)
    services.retention.sweep()

    again = services.retention.sweep()

    assert (again.responses_handled, sum(again.consents_removed.values())) == (0, 0)


def test_small_batches_are_each_audited_with_counts_only(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    for _ in range(5):
        post(client, collector, canary_body())
    clock.advance(days=181)

    services.retention.sweep(batch_size=2)

    details = sweep_details(services)
    handled = sum(sum(d.get("anonymised", {}).values()) for d in details)  # type: ignore[attr-defined]
    text = json.dumps(details)
    assert handled == 5
    assert len(details) >= 3
    assert not [c for c in CANARIES if c in text]
    assert verify_chain(services.stores).intact


def test_purpose_gone_from_the_policy_is_deleted_and_reported(
    services: Services,
    client: FlaskClient,
    clock: FrozenClock,
    collector: dict[str, str],
    settings: Settings,
    tmp_path: Path,
) -> None:
    post(client, collector, canary_body("support-follow-up", csat=2))
    folder = tmp_path / "policies"
    folder.mkdir()
    write_policies(folder, POLICY.format(retention="P180D"))
    changed = Services.build(dataclasses.replace(settings, policies_dir=folder), clock=clock)
    clock.advance(days=31)

    report = changed.retention.sweep()
    changed.databases.dispose()

    assert (report.deleted["support-follow-up"], report.unknown_purposes) == (
        1,
        {"support-follow-up"},
    )
    assert responses(services) == []


def test_shortened_retention_keeps_stored_expiry_and_is_reported(
    policy_services: tuple[Services, FlaskClient, dict[str, str]],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    _services, client, collector = policy_services
    post(client, collector, canary_body())
    folder = tmp_path / "shorter"
    folder.mkdir()
    write_policies(folder, POLICY.format(retention="P30D"))
    shorter = Services.build(dataclasses.replace(settings, policies_dir=folder), clock=clock)
    clock.advance(days=31)

    # The dry run counts with the whole server; the sweep with one process beside its
    # batches (PostgreSQL). Both must count the same rows.
    preview = shorter.retention.sweep(dry_run=True)
    report = shorter.retention.sweep()
    shorter.databases.dispose()

    assert preview.outliving_policy == report.outliving_policy == {"service-improvement": 1}
    assert report.responses_handled == 0


def test_cli_sweep_prints_counts_per_purpose_and_no_personal_data(
    services: Services,
    client: FlaskClient,
    clock: FrozenClock,
    collector: dict[str, str],
    settings: Settings,
) -> None:
    post(client, collector, canary_body())
    # The CLI runs on the wall clock: move the stored expiry into the past instead.
    with services.stores.data() as unit:
        for row in unit.session.scalars(select(Response)):
            row.expires_at = row.expires_at.replace(year=2000)

    result = CliRunner().invoke(
        main, ["retention", "sweep"], env={k: str(v) for k, v in settings.environ.items()}
    )

    assert result.exit_code == 0, result.output
    assert "service-improvement: 0 deleted, 1 anonymised" in result.output
    assert not [c for c in CANARIES if c in result.output]


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_cli_sweep_refuses_a_bad_batch_size(settings: Settings, value: str) -> None:
    result = CliRunner().invoke(
        main,
        ["retention", "sweep", "--batch-size", value],
        env={k: str(v) for k, v in settings.environ.items()},
    )

    assert result.exit_code == 2
    assert "batch-size" in result.output


@pytest.mark.parametrize("value", ["0", "5", "two"])
def test_cli_sweep_refuses_a_bad_worker_count(settings: Settings, value: str) -> None:
    result = CliRunner().invoke(
        main,
        ["retention", "sweep", "--workers", value],
        env={k: str(v) for k, v in settings.environ.items()},
    )

    assert result.exit_code == 2
    assert "workers" in result.output


def test_cli_sweep_with_two_workers_sweeps_everything(
    services: Services, client: FlaskClient, collector: dict[str, str], settings: Settings
) -> None:
    for _ in range(3):
        post(client, collector, canary_body())
    with services.stores.data() as unit:
        for row in unit.session.scalars(select(Response)):
            row.expires_at = row.expires_at.replace(year=2000)

    result = CliRunner().invoke(
        main,
        ["retention", "sweep", "--workers", "2"],
        env={k: str(v) for k, v in settings.environ.items()},
    )

    assert result.exit_code == 0, result.output
    assert "service-improvement: 0 deleted, 3 anonymised" in result.output
    assert not [c for c in CANARIES if c in result.output]
