"""Set up and run the service: `init` and `serve`."""

from __future__ import annotations

from typing import Any

import click

from feedbackvault.cli.root import built_services, load_settings, main
from feedbackvault.settings import Settings


@main.command()
def init() -> None:
    """Create the instance folder and local keys, and apply migrations (safe to re-run)."""
    from feedbackvault.crypto.keys import FileKeyProvider
    from feedbackvault.policies.loader import PolicyError, load_policy_set
    from feedbackvault.storage.database import Databases
    from feedbackvault.storage.migrate import upgrade

    settings = load_settings()
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    if settings.key_provider == "file":
        _provider, created = FileKeyProvider.initialise(settings.keys_dir)
        state = "created" if created else "kept existing"
        click.echo(f"keys: {state} local development keys in {settings.keys_dir} (mode 0600)")
    _session_secret(settings)
    try:
        load_policy_set(settings.policies_dir)
    except PolicyError as exc:
        raise click.ClickException(f"policy error: {exc}") from exc
    databases = Databases.from_urls(settings.database_url, settings.keystore_url)
    try:
        upgrade(databases)
    finally:
        databases.dispose()
    click.echo("databases: data and key store migrated to the newest schema")


def _session_secret(settings: Settings) -> None:
    """Create the console's session secret in the instance folder (mode 0600) once."""
    import os
    import secrets

    if settings.environ.get("FEEDBACKVAULT_SECRET_KEY"):
        click.echo("console: session secret from FEEDBACKVAULT_SECRET_KEY")
        return
    path = settings.secret_key_file
    if path.exists():
        click.echo(f"console: kept the existing session secret in {path}")
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    click.echo(f"console: created a session secret in {path} (mode 0600)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Run the service under gunicorn (the Flask server where gunicorn is missing)."""
    from feedbackvault.app import create_app

    with built_services() as checked:
        settings = checked.settings  # fail fast on bad settings, policies or keys
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        create_app(settings).run(host=host, port=port)
        return

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", None)

        def load(self) -> Any:
            # Each worker builds its own engines after the fork.
            return create_app(settings)

    Server().run()
