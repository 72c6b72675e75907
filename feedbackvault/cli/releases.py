"""Release closed days ahead of the analysts' first queries: `releases publish`."""

from __future__ import annotations

from datetime import date

import click

from feedbackvault.cli.root import built_services, main


@main.group()
def releases() -> None:
    """Differentially private releases of closed days."""


@releases.command("publish")
@click.option(
    "--through",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day to release (YYYY-MM-DD, UTC); at most yesterday, which is the default.",
)
def releases_publish(through: object) -> None:
    """Release every closed day not yet released (safe to re-run and to run concurrently)."""
    last: date | None = through.date() if hasattr(through, "date") else None
    with built_services() as services:
        report = services.releases.publish_closed_days(last)
    click.echo(
        f"released through {report.through.isoformat()}: {report.days} days "
        f"({report.cells} cells) over {report.surveys} surveys"
    )
