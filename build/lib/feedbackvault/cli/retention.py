"""Enforce retention and keep erasures erased: `retention sweep`, `erasures replay`."""

from __future__ import annotations

import click

from feedbackvault.cli.root import built_services, main
from feedbackvault.services.retention import DEFAULT_BATCH_SIZE, MAX_SWEEP_WORKERS


@main.group()
def retention() -> None:
    """Enforce the purposes' retention periods."""


@retention.command("sweep")
@click.option("--dry-run", is_flag=True, help="Count what would be done; change nothing.")
@click.option(
    "--batch-size",
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    type=click.IntRange(min=1, max=100_000),
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1, max=MAX_SWEEP_WORKERS),
    help="Sweepers side by side (PostgreSQL; SQLite always sweeps alone).",
)
def retention_sweep(dry_run: bool, batch_size: int, workers: int) -> None:
    """Erase or anonymise what has expired (safe to re-run and to run in parallel)."""
    from feedbackvault.services.retention import summary_lines

    with built_services() as services:
        report = services.retention.sweep(batch_size=batch_size, dry_run=dry_run, workers=workers)
        for line in summary_lines(report, services.policies):
            click.echo(line)


@main.group()
def erasures() -> None:
    """Keep erased subjects erased."""


@erasures.command("replay")
def erasures_replay() -> None:
    """Re-apply every erasure tombstone to both stores, e.g. after restoring a backup."""
    with built_services() as services:
        report = services.subject_rights.erasure.replay(actor="cli")
    click.echo(
        f"erasures replayed: {report.tombstones} tombstones; erased {report.responses_erased} "
        f"responses, {report.consents_erased} consents, {report.keys_destroyed} keys, "
        f"{report.lookups_destroyed} index entries"
    )
