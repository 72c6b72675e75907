"""The `feedbackvault` command line: init, serve, tokens, policies, audit, keys."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import click

from feedbackvault.app import Services, create_app
from feedbackvault.crypto.keys import FileKeyProvider
from feedbackvault.domain.clock import isoformat_z
from feedbackvault.domain.errors import FeedbackVaultError
from feedbackvault.policies.loader import PolicyError, load_policy_set
from feedbackvault.policies.ropa import render_ropa
from feedbackvault.services.audit import verify_chain
from feedbackvault.services.retention import (
    DEFAULT_BATCH_SIZE,
    MAX_SWEEP_WORKERS,
    summary_lines,
)
from feedbackvault.services.tokens import ROLES
from feedbackvault.settings import Settings, SettingsError
from feedbackvault.storage.database import Databases
from feedbackvault.storage.migrate import upgrade


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _services() -> Iterator[Services]:
    try:
        services = Services.build(_settings())
    except PolicyError as exc:
        raise click.ClickException(f"policy error: {exc}") from exc
    try:
        yield services
    finally:
        services.databases.dispose()


@click.group()
@click.version_option(package_name="feedbackvault")
def main() -> None:
    """Store consented customer feedback, encrypted per subject."""


@main.command()
def init() -> None:
    """Create the instance folder and local keys, and apply migrations (safe to re-run)."""
    settings = _settings()
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    if settings.key_provider == "file":
        _provider, created = FileKeyProvider.initialise(settings.keys_dir)
        state = "created" if created else "kept existing"
        click.echo(f"keys: {state} local development keys in {settings.keys_dir} (mode 0600)")
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Run the service under gunicorn (the Flask server where gunicorn is missing)."""
    with _services() as checked:
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


@main.group()
def tokens() -> None:
    """Manage API bearer tokens."""


@tokens.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", required=True)
def tokens_create(role: str, name: str) -> None:
    """Create a token; it is printed once, alone on the last line."""
    try:
        with _services() as services:
            secret = services.tokens.create(role, name)
    except FeedbackVaultError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"created token {name!r} with role {role}; it is shown only once:")
    click.echo(secret)


@tokens.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    with _services() as services:
        listed = services.tokens.list()
    for token in listed:
        revoked = f"revoked {isoformat_z(token.revoked_at)}" if token.revoked_at else "active"
        click.echo(f"{token.name}\t{token.role}\t{isoformat_z(token.created_at)}\t{revoked}")


@tokens.command("revoke")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """Revoke a token by name."""
    try:
        with _services() as services:
            services.tokens.revoke(name)
    except FeedbackVaultError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"revoked token {name!r}")


@main.group()
def policies() -> None:
    """Validate policies and derive the record of processing activities."""


@policies.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def policies_check(directory: str | None) -> None:
    """Validate a policies directory (default: the configured one)."""
    from pathlib import Path

    path = Path(directory) if directory else _settings().policies_dir
    try:
        policy_set = load_policy_set(path)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"ok: {len(policy_set.ordered())} purposes, k={policy_set.aggregation.k}")


@policies.command("ropa")
def policies_ropa() -> None:
    """Print the record of processing activities (GDPR Art. 30) as Markdown."""
    try:
        policy_set = load_policy_set(_settings().policies_dir)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(render_ropa(policy_set), nl=False)


@main.group()
def audit() -> None:
    """Check the audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Exit 0 when the hash chain is intact; otherwise name the first broken entry."""
    with _services() as services:
        check = verify_chain(services.stores)
    if not check.intact:
        click.echo(f"audit chain broken at entry {check.broken_seq}: {check.reason}", err=True)
        sys.exit(1)
    click.echo(f"audit chain intact: {check.entries} entries")


@main.group()
def keys() -> None:
    """Manage key-encryption keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Create a new KEK, rewrap every data key under it and retire the old KEKs."""
    with _services() as services:
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
    with _services() as services:
        report = services.orphan_keys.collect(timedelta(minutes=grace_minutes), dry_run=dry_run)
    found = f"{report.orphans} of {report.subjects_checked} keyed subjects own no data"
    if report.dry_run:
        click.echo(f"keys gc (dry run): {found}; nothing destroyed")
    else:
        click.echo(
            f"keys gc: {found}; destroyed {report.keys_destroyed} keys and "
            f"{report.lookups_destroyed} index entries"
        )


@main.group()
def retention() -> None:
    """Enforce the purposes' retention periods."""


@retention.command("sweep")
@click.option("--dry-run", is_flag=True, help="Count what would be done; change nothing.")
@click.option(
    "--batch-size",
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    type=click.IntRange(min=1, max=100_000),
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1, max=MAX_SWEEP_WORKERS),
    help="Sweepers side by side (PostgreSQL; SQLite always sweeps alone).",
)
def retention_sweep(dry_run: bool, batch_size: int, workers: int) -> None:
    """Erase or anonymise what has expired (safe to re-run and to run in parallel)."""
    with _services() as services:
        report = services.retention.sweep(batch_size=batch_size, dry_run=dry_run, workers=workers)
        for line in summary_lines(report, services.policies):
            click.echo(line)


@main.group()
def erasures() -> None:
    """Keep erased subjects erased."""


@erasures.command("replay")
def erasures_replay() -> None:
    """Re-apply every erasure tombstone to both stores, e.g. after restoring a backup."""
    with _services() as services:
        report = services.subject_rights.erasure.replay(actor="cli")
    click.echo(
        f"erasures replayed: {report.tombstones} tombstones; erased {report.responses_erased} "
        f"responses, {report.consents_erased} consents, {report.keys_destroyed} keys, "
        f"{report.lookups_destroyed} index entries"
    )


if __name__ == "__main__":
    main()
