"""Manage people's console accounts: `users create|list|disable|reset-password`."""

from __future__ import annotations

import click

from feedbackvault.cli.root import built_services, main
from feedbackvault.domain.clock import isoformat_z
from feedbackvault.domain.errors import FeedbackVaultError, ValidationFailed

# The services module imports argon2; the choices are repeated here so `--help` stays light.
ROLES = ("privacy_officer", "analyst", "auditor", "follow_up")


def _failed(exc: FeedbackVaultError) -> click.ClickException:
    if isinstance(exc, ValidationFailed):
        fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
        return click.ClickException(f"{exc.detail} {fields}")
    return click.ClickException(exc.detail)


@main.group()
def users() -> None:
    """Manage people's console accounts (not API tokens)."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default=None)
def users_create(email: str, role: str, name: str | None) -> None:
    """Create an account; its one-time password is printed once, alone on the last line."""
    try:
        with built_services() as services:
            password = services.accounts.create(email, role, name)
    except FeedbackVaultError as exc:
        raise _failed(exc) from exc
    click.echo(f"created account for {email.strip().lower()} with role {role}.")
    click.echo("One-time password (it must be changed at the first login; shown only once):")
    click.echo(password)


@users.command("list")
def users_list() -> None:
    """List accounts: e-mail, role, name, state (never a password)."""
    with built_services() as services:
        listed = services.accounts.list()
        now = services.clock.now()
    for account in listed:
        if account.disabled_at is not None:
            state = f"disabled {isoformat_z(account.disabled_at)}"
        elif account.locked_until is not None and account.locked_until > now:
            state = f"locked until {isoformat_z(account.locked_until)}"
        elif account.must_change_password:
            state = "must change password"
        else:
            state = "active"
        click.echo(f"{account.email}\t{account.role}\t{account.name or '-'}\t{state}")


@users.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable an account; its sessions end at once."""
    try:
        with built_services() as services:
            services.accounts.disable(email)
    except FeedbackVaultError as exc:
        raise _failed(exc) from exc
    click.echo(f"disabled account {email.strip().lower()}")


@users.command("reset-password")
@click.argument("email")
def users_reset_password(email: str) -> None:
    """Give an account a new one-time password, printed alone on the last line."""
    try:
        with built_services() as services:
            password = services.accounts.reset_password(email)
    except FeedbackVaultError as exc:
        raise _failed(exc) from exc
    click.echo(f"reset the password of {email.strip().lower()}; its sessions have ended.")
    click.echo("One-time password (it must be changed at the next login; shown only once):")
    click.echo(password)
