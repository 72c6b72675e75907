"""Manage key-encryption keys and orphaned data keys: `keys rotate|list|destroy-retired|gc`."""

from __future__ import annotations

from datetime import timedelta

import click

from feedbackvault.cli.root import built_services, main


@main.group()
def keys() -> None:
    """Manage key-encryption keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Create a new KEK, retire the old one and rewrap every data key under the new."""
    from feedbackvault.services.key_rotation import rotation_line

    with built_services() as services:
        rotation = services.key_rotation.rotate()
    click.echo(rotation_line(rotation))


@keys.command("list")
def keys_list() -> None:
    """Print one line per KEK: its id, its state and its dates."""
    from feedbackvault.services.key_rotation import describe

    with built_services() as services:
        versions = services.key_rotation.versions()
    for version in versions:
        click.echo(describe(version))


@keys.command("destroy-retired")
def keys_destroy_retired() -> None:
    """Destroy the retired KEKs whose grace (FEEDBACKVAULT_KEK_GRACE) has passed, only those."""
    from feedbackvault.services.key_rotation import destruction_lines

    with built_services() as services:
        report = services.key_rotation.destroy_retired()
    for line in destruction_lines(report):
        click.echo(line)


@keys.command("gc")
@click.option(
    "--grace-minutes",
    default=60,
    show_default=True,
    type=click.IntRange(min=1),
    help="Leave keys younger than this alone (their submission may still be in flight).",
)
@click.option("--dry-run", is_flag=True, help="Count the orphaned subjects; destroy nothing.")
def keys_gc(grace_minutes: int, dry_run: bool) -> None:
    """Shred data keys whose subject owns nothing (left by a submission that crashed)."""
    from feedbackvault.services.orphan_keys import summary_line

    with built_services() as services:
        report = services.orphan_keys.collect(timedelta(minutes=grace_minutes), dry_run=dry_run)
    click.echo(summary_line(report))
