"""The `feedbackvault` command group and what every command shares: settings and services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from feedbackvault.app import Services
    from feedbackvault.settings import Settings


class OperatorGroup(click.Group):
    """A command group whose commands report set-up mistakes as one paragraph, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; explain an operator's mistake (cli/errors.py), re-raise a bug."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            from feedbackvault.cli.errors import explain

            message = explain(exc)
            if message is None:
                raise
            raise click.ClickException(message) from exc


@click.group(cls=OperatorGroup)
@click.version_option(package_name="feedbackvault")
def main() -> None:
    """Store consented customer feedback, encrypted per subject."""


def load_settings() -> Settings:
    """Read the settings from the environment, or stop with the reason."""
    from feedbackvault.settings import Settings, SettingsError, misspelt_settings

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    for name, meant in misspelt_settings(settings.environ):
        # A typo leaves the default in force (SQLite for a misspelt DATABASE_URL): say so.
        click.echo(
            f"warning: {name} is not a setting and is ignored; did you mean {meant}? "
            f"(it is not set, so its default is used)",
            err=True,
        )
    return settings


@contextmanager
def built_services() -> Iterator[Services]:
    """Compose the services for one command and dispose of their engines afterwards."""
    from feedbackvault.app import Services

    # A policy, key or database mistake is explained by OperatorGroup (cli/errors.py).
    services = Services.build(load_settings())
    try:
        yield services
    finally:
        services.databases.dispose()
