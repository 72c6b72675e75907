"""The scheduled upkeep job: `maintain`."""

from __future__ import annotations

import click

from feedbackvault.cli.root import built_services, main


@main.command()
def maintain() -> None:
    """Sweep, collect orphaned keys, rotate the KEK when due, destroy KEKs past grace.

    Run it from cron or a scheduler every few minutes; it is safe to run concurrently
    and repeatedly. Prints what each step did.
    """
    with built_services() as services:
        for line in services.maintenance.run():
            click.echo(line)
