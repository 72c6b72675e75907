"""Dry runs speak in the conditional and say why they would do no more."""

from __future__ import annotations

from click.testing import CliRunner
from flask.testing import FlaskClient

from feedbackvault.app import Services
from feedbackvault.cli import main
from feedbackvault.services.retention import SweepReport, summary_lines
from feedbackvault.settings import Settings
from tests.support import FrozenClock, row_counts, stored_bytes, submission


def post(client: FlaskClient, collector: dict[str, str], purpose: str, email: str) -> None:
    """Submit one response of a purpose for a respondent."""
    body = submission(purpose=purpose, respondent={"email": email}, answers={"nps": 8})
    response = client.post("/api/v1/responses", json=body, headers=collector)
    assert response.status_code == 201, response.get_json()


def test_dry_run_lines_say_would_and_name_queued_subjects_and_what_is_kept(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    for email in ("a@example.nl", "b@example.nl", "c@example.nl"):
        post(client, collector, "service-improvement", email)  # P180D, anonymise
    post(client, collector, "product-research", "d@example.nl")  # P1Y, delete
    clock.advance(days=200)
    post(client, collector, "product-research", "e@example.nl")
    post(client, collector, "service-improvement", "f@example.nl")
    # A sweep interrupted after its first batch: two responses anonymised and their
    # subjects queued for shredding, the shredder never ran.
    with services.stores.data() as unit:
        unit.retention.sweep_expired_responses(
            clock.now(), 2, ["service-improvement"], anonymising=True
        )
    before = (stored_bytes(services), row_counts(services))

    report = services.retention.sweep(dry_run=True)
    lines = summary_lines(report, services.policies)

    assert lines[0] == "retention sweep (dry run, nothing changed):"
    assert (
        "service-improvement: would anonymise 1 response and remove 1 expired consent record"
        in (lines)
    )
    assert (
        "would shred 3 subjects left with nothing (keys and index entries destroyed) "
        "(2 of them queued by an earlier sweep that found them held by a submission; one "
        "still held then is passed over and stays queued)"
    ) in lines
    assert "kept: 3 responses not expired yet; the first expires at 2027-11-24T10:00:00Z" in lines
    assert not any(" deleted" in line or "anonymised" in line for line in lines)
    assert not any("@example.nl" in line for line in lines)
    assert (stored_bytes(services), row_counts(services)) == before

    done = services.retention.sweep()
    real = summary_lines(done, services.policies)
    assert report.subjects_shredded == done.subjects_shredded == 3
    assert done.subjects_queued == 0
    assert not any(line.startswith("would") for line in real)


def test_dry_run_with_nothing_expired_says_so_and_when_the_first_expires(
    settings: Settings, client: FlaskClient, collector: dict[str, str]
) -> None:
    post(client, collector, "service-improvement", "kept@example.nl")
    env = {k: str(v) for k, v in settings.environ.items()}

    result = CliRunner().invoke(main, ["retention", "sweep", "--dry-run"], env=env)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "retention sweep (dry run, nothing changed):",
        "nothing has expired: a sweep now would delete and anonymise nothing",
        "would shred 0 subjects left with nothing (keys and index entries destroyed)",
        "kept: 1 response not expired yet; the first expires at 2027-05-23T10:00:00Z",
    ]


def test_a_sweep_names_the_held_subjects_it_leaves_queued(services: Services) -> None:
    report = SweepReport(dry_run=False, subjects_queued=2)
    lines = summary_lines(report, services.policies)
    assert (
        "2 subjects left with nothing were held by a submission or another sweep and stay "
        "queued: the next sweep shreds them"
    ) in lines
    assert not any("would" in line for line in lines)
