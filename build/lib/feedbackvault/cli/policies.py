"""Check policies and print the register: `policies check|ropa`."""

from __future__ import annotations

from pathlib import Path

import click

from feedbackvault.cli.root import load_settings, main


@main.group()
def policies() -> None:
    """Validate policies and derive the record of processing activities."""


@policies.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def policies_check(directory: str | None) -> None:
    """Validate a policies directory (default: the configured one)."""
    from feedbackvault.policies.loader import PolicyError, load_policy_set

    path = Path(directory) if directory else load_settings().policies_dir
    try:
        policy_set = load_policy_set(path)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"ok: {len(policy_set.ordered())} purposes, k={policy_set.aggregation.k}")


@policies.command("ropa")
def policies_ropa() -> None:
    """Print the record of processing activities (GDPR Art. 30) as Markdown."""
    from feedbackvault.policies.loader import PolicyError, load_policy_set
    from feedbackvault.policies.ropa import render_ropa

    try:
        policy_set = load_policy_set(load_settings().policies_dir)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(render_ropa(policy_set), nl=False)
