"""Manage key-encryption keys and orphaned data keys: `keys rotate|list|destroy-retired|gc`."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import click

from feedbackvault.cli.root import built_services, main

if TYPE_CHECKING:
    from feedbackvault.services.key_rotation import Destruction, Rotation


@main.group()
def keys() -> None:
    """Manage key-encryption keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Create a new KEK, retire the old one and rewrap every data key under the new."""
    with built_services() as services:
        rotation = services.key_rotation.rotate()
    click.echo(rotation_line(rotation))


def rotation_line(rotation: Rotation) -> str:
    """Say what a rotation did, in one line."""
    if not rotation.created:
        return (
            f"rewrapped {rotation.keys_rewrapped} data keys under {rotation.new_kek_id} "
            "(the environment provider creates no key: list a new one first in "
            "FEEDBACKVAULT_KEK to rotate)"
        )
    return (
        f"rotated to {rotation.new_kek_id}: {rotation.keys_rewrapped} data keys rewrapped, "
        f"retired {', '.join(rotation.retired_kek_ids) or 'none'}"
    )


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
    with built_services() as services:
        report = services.key_rotation.destroy_retired()
    for line in destruction_lines(report):
        click.echo(line)


def destruction_lines(report: Destruction) -> list[str]:
    """Say what destroying retired KEKs did and why it left the others."""
    from feedbackvault.domain.clock import isoformat_z

    lines = [f"destroyed {kek_id}" for kek_id in report.destroyed]
    lines += [f"kept {kek_id}: grace ends {isoformat_z(ends)}" for kek_id, ends in report.waiting]
    lines += [
        f"kept {kek_id}: grace over but it still wraps data keys; run `keys rotate`"
        for kek_id in report.in_use
    ]
    lines += [
        f"kept {kek_id}: retirement date unknown; date it (file provider: "
        f"keys/{kek_id}.retired, environment: '@<date>' on its entry)"
        for kek_id in report.undated
    ]
    lines += [
        f"grace over for {kek_id}: remove its entry from FEEDBACKVAULT_KEK and the secret "
        "store it came from (the environment provider cannot destroy it)"
        for kek_id in report.to_remove
    ]
    return lines or ["no retired key-encryption keys"]


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
