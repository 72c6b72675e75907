"""The `feedbackvault` command group and what every command shares: settings and services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from feedbackvault.settings import Settings, SettingsError

if TYPE_CHECKING:
    from feedbackvault.app import Services


@click.group()
@click.version_option(package_name="feedbackvault")
def main() -> None:
    """Store consented customer feedback, encrypted per subject."""


def load_settings() -> Settings:
    """Read the settings from the environment, or stop with the reason."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def built_services() -> Iterator[Services]:
    """Compose the services for one command and dispose of their engines afterwards."""
    from feedbackvault.app import Services
    from feedbackvault.policies.loader import PolicyError

    try:
        services = Services.build(load_settings())
    except PolicyError as exc:
        raise click.ClickException(f"policy error: {exc}") from exc
    try:
        yield services
    finally:
        services.databases.dispose()
