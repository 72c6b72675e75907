"""Check the audit log: `audit verify`."""

from __future__ import annotations

import sys

import click

from feedbackvault.cli.root import built_services, main


@main.group()
def audit() -> None:
    """Check the audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Exit 0 when the hash chain is intact; otherwise name the first broken entry."""
    from feedbackvault.services.audit import verify_chain

    with built_services() as services:
        check = verify_chain(services.stores)
    if not check.intact:
        click.echo(f"audit chain broken at entry {check.broken_seq}: {check.reason}", err=True)
        sys.exit(1)
    click.echo(f"audit chain intact: {check.entries} entries")
