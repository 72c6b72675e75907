"""Manage key-encryption keys and orphaned data keys: `keys rotate|gc`."""

from __future__ import annotations

from datetime import timedelta

import click

from feedbackvault.cli.root import built_services, main


@main.group()
def keys() -> None:
    """Manage key-encryption keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Create a new KEK, rewrap every data key under it and retire the old KEKs."""
    with built_services() as services:
        rotation = services.key_rotation.rotate()
    click.echo(
        f"rotated to {rotation.new_kek_id}: {rotation.keys_rewrapped} data keys rewrapped, "
        f"retired {', '.join(rotation.retired_kek_ids) or 'none'}"
    )


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
    with built_services() as services:
        report = services.orphan_keys.collect(timedelta(minutes=grace_minutes), dry_run=dry_run)
    found = f"{report.orphans} of {report.subjects_checked} keyed subjects own no data"
    if report.dry_run:
        click.echo(f"keys gc (dry run): {found}; nothing destroyed")
    else:
        click.echo(
            f"keys gc: {found}; destroyed {report.keys_destroyed} keys and "
            f"{report.lookups_destroyed} index entries"
        )
