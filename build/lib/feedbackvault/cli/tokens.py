"""Manage API bearer tokens: `tokens create|list|revoke`."""

from __future__ import annotations

import click

from feedbackvault.cli.root import built_services, main
from feedbackvault.domain.clock import isoformat_z
from feedbackvault.domain.errors import FeedbackVaultError
from feedbackvault.services.tokens import ROLES


@main.group()
def tokens() -> None:
    """Manage API bearer tokens."""


@tokens.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", required=True)
def tokens_create(role: str, name: str) -> None:
    """Create a token; it is printed once, alone on the last line."""
    try:
        with built_services() as services:
            secret = services.tokens.create(role, name)
    except FeedbackVaultError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"created token {name!r} with role {role}; it is shown only once:")
    click.echo(secret)


@tokens.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    with built_services() as services:
        listed = services.tokens.list()
    for token in listed:
        revoked = f"revoked {isoformat_z(token.revoked_at)}" if token.revoked_at else "active"
        click.echo(f"{token.name}\t{token.role}\t{isoformat_z(token.created_at)}\t{revoked}")


@tokens.command("revoke")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """Revoke a token by name."""
    try:
        with built_services() as services:
            services.tokens.revoke(name)
    except FeedbackVaultError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"revoked token {name!r}")
