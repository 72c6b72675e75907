"""Set up and run the service: `init` and `serve`."""

from __future__ import annotations

from typing import Any

import click

from feedbackvault.cli.root import built_services, load_settings, main
from feedbackvault.settings import Settings

# gunicorn's largest finite request line (its default is 4,094).
GUNICORN_REQUEST_LINE = 8190


@main.command()
def init() -> None:
    """Create the instance folder and local keys, and apply migrations (safe to re-run)."""
    from feedbackvault.crypto.keys import FileKeyProvider
    from feedbackvault.policies.loader import PolicyError, load_policy_set
    from feedbackvault.storage.database import Databases, make_sqlite_files_private
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
    for url in (settings.database_url, settings.keystore_url):
        for path in make_sqlite_files_private(url):
            click.echo(f"databases: {path} made readable by its owner only (0600)")


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
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1))
def serve(host: str, port: int, workers: int) -> None:
    """Run the service under gunicorn (the Flask server where gunicorn is missing)."""
    from feedbackvault.app import create_app
    from feedbackvault.storage.migrate import pending

    with built_services() as checked:
        settings = checked.settings  # fail fast on bad settings, policies or keys
        behind = pending(checked.databases)  # and on databases that were never initialised
    if behind:
        raise click.ClickException(
            f"the {' and '.join(behind)} database schema is missing or not at this "
            "version of feedbackvault; run `feedbackvault init` (it creates or migrates both "
            "stores and is safe to re-run; a schema from a newer version needs that version), "
            "then serve again."
        )
    check_bindable(host, port)
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
            # gunicorn answers a longer request line with its own HTML 414; up to its
            # maximum, the service answers instead, with a problem document.
            self.cfg.set("limit_request_line", GUNICORN_REQUEST_LINE)

        def load(self) -> Any:
            # Each worker builds its own engines after the fork.
            return create_app(settings)

    Server().run()


def check_bindable(host: str, port: int) -> None:
    """Stop with the reason when host:port cannot be listened on (gunicorn would retry 5 s)."""
    import errno
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise click.ClickException(
            f"--host {host!r} is not an address of this machine; use 127.0.0.1 (this "
            "machine only) or 0.0.0.0 (every interface)."
        ) from None
    family, kind, proto, _name, address = addresses[0]
    with socket.socket(family, kind, proto) as probe:
        # gunicorn sets SO_REUSEADDR too: a port in TIME_WAIT is free to it, and so to us.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = "another process is already listening there (`ss -ltnp` names it)"
                fix = f"stop it, or choose another port with --port (e.g. --port {port + 1})"
            elif exc.errno == errno.EACCES:
                reason = "ports below 1024 need root"
                fix = "choose a port of 1024 or above with --port, behind your proxy"
            else:
                reason = exc.strerror or type(exc).__name__
                fix = "choose another --host or --port"
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {reason}. {fix[0].upper()}{fix[1:]}."
            ) from None
