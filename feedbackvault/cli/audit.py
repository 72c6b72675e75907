"""Check and anchor the audit log: `audit verify [--anchor FILE]`, `audit anchor`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from feedbackvault.cli.root import built_services, main

if TYPE_CHECKING:
    from feedbackvault.app import Services
    from feedbackvault.crypto.signing import ReceiptSigner


@main.group()
def audit() -> None:
    """Check the audit log."""


@audit.command("verify")
@click.option(
    "--anchor",
    "anchor_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file of anchors (`audit anchor` lines), a certificate or an audit hash; repeatable.",
)
def audit_verify(anchor_files: tuple[Path, ...]) -> None:
    """Exit 0 when the chain is intact and holds every anchor; otherwise name what broke."""
    from feedbackvault.services.audit import AnchorError, read_anchors, verify_chain

    with built_services() as services:
        signer = _anchor_signer(services, required=False)
        public_key = signer.public_key_b64() if signer else None
        anchors = []
        for path in anchor_files:
            try:
                anchors += read_anchors(path.read_text(encoding="utf-8"), public_key)
            except (AnchorError, UnicodeDecodeError) as exc:
                raise click.ClickException(f"{path}: {exc}") from exc
        check = verify_chain(services.stores, anchors)
    if check.missing_anchor is not None:
        click.echo(
            f"audit chain does not hold {check.missing_anchor}: entries were removed "
            "(a rollback, a truncated tail or a restore from before the anchor)",
            err=True,
        )
        sys.exit(1)
    if not check.intact:
        click.echo(f"audit chain broken at entry {check.broken_seq}: {check.reason}", err=True)
        sys.exit(1)
    held = f", {len(anchors)} anchors held" if anchors else ""
    click.echo(f"audit chain intact: {check.entries} entries{held}")


@audit.command("anchor")
def audit_anchor() -> None:
    """Print the signed head of the chain as one JSON line, to keep outside the service."""
    from feedbackvault.services.audit import anchor_head

    with built_services() as services:
        signer = _anchor_signer(services, required=True)
        assert signer is not None
        anchor = anchor_head(services.stores, signer, services.clock)
    click.echo(json.dumps(anchor, separators=(",", ":")))


def _anchor_signer(services: Services, *, required: bool) -> ReceiptSigner | None:
    """Build the anchor signer from the provider's anchor key, or None when it has none."""
    from feedbackvault.crypto.errors import KeyProviderError
    from feedbackvault.crypto.signing import ReceiptSigner

    try:
        return ReceiptSigner(services.key_provider.anchor_signing_key())
    except KeyProviderError as exc:
        if required:
            raise click.ClickException(str(exc)) from exc
        return None
