"""Check the audit chain, sign its head as an anchor, and read anchors back."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from feedbackvault.crypto.signing import ReceiptSigner, verify_receipt
from feedbackvault.domain.audit import (
    Anchor,
    AuditFilter,
    AuditPage,
    ChainCheck,
    ChainStretch,
    check_chain,
    check_head,
    check_stretch,
)
from feedbackvault.domain.clock import Clock, isoformat_z
from feedbackvault.storage.units import Stores

_HASH = re.compile(r"[0-9a-f]{64}")
# The fields of an anchor its signature covers (everything but the signature).
SIGNED_FIELDS = ("seq", "hash", "at", "public_key")
# Entries per page of the console's audit log: a screen or two of a dense table.
PAGE_SIZE = 50


class AnchorError(ValueError):
    """An anchor file line is not an anchor, or its signature does not hold."""


def verify_chain(stores: Stores, anchors: Collection[Anchor] = ()) -> ChainCheck:
    """Walk the whole audit chain; report the first broken entry, then any anchor it lacks."""
    with stores.read() as unit:
        head_seq, head_hash = unit.audit.head()
        return check_chain(unit.audit.records(up_to=head_seq), head_seq, head_hash, anchors)


def anchor_head(stores: Stores, signer: ReceiptSigner, clock: Clock) -> dict[str, Any]:
    """Sign the chain's head as `{"seq", "hash", "at", "public_key", "signature"}`."""
    with stores.read() as unit:
        seq, head_hash = unit.audit.head()
    anchor: dict[str, Any] = {
        "seq": seq,
        "hash": head_hash,
        "at": isoformat_z(clock.now()),
        "public_key": signer.public_key_b64(),
    }
    anchor["signature"] = signer.sign(anchor)
    return anchor


def read_anchors(text: str, public_key: str | None) -> list[Anchor]:
    """Read an anchor file: one anchor per line, a certificate, or a bare audit hash.

    A signed anchor must verify, under this service's anchor key when it is known
    (`public_key`): a forged or foreign anchor is refused, not silently matched.
    """
    stripped = text.strip()
    if stripped.startswith("{") and "\n" in stripped:
        try:
            # A certificate or a response pasted whole, over several lines.
            return [_anchor_of(json.loads(stripped), public_key)]
        except json.JSONDecodeError:
            pass  # one anchor per line
    anchors = []
    for number, line in enumerate(stripped.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if _HASH.fullmatch(line):
            anchors.append(Anchor(line))
            continue
        try:
            anchors.append(_anchor_of(json.loads(line), public_key))
        except (json.JSONDecodeError, RecursionError):
            raise AnchorError(f"line {number} is neither an anchor nor an audit hash") from None
        except AnchorError as exc:
            raise AnchorError(f"line {number}: {exc}") from None
    if not anchors:
        raise AnchorError("the file holds no anchor")
    return anchors


def _anchor_of(value: object, public_key: str | None) -> Anchor:
    """Turn one parsed JSON value into an anchor, checking its signature."""
    if not isinstance(value, dict):
        raise AnchorError("not an anchor")
    certificate = value.get("certificate", value)
    if isinstance(certificate, dict) and "audit_hash" in certificate:
        audit_hash = certificate["audit_hash"]
        if not isinstance(audit_hash, str) or not _HASH.fullmatch(audit_hash):
            raise AnchorError("the certificate's audit_hash is not a hash")
        return Anchor(audit_hash)
    seq, anchor_hash, key = value.get("seq"), value.get("hash"), value.get("public_key")
    if (
        not isinstance(seq, int)
        or isinstance(seq, bool)
        or seq < 0
        or not isinstance(anchor_hash, str)
        or not _HASH.fullmatch(anchor_hash)
        or not isinstance(key, str)
        or not isinstance(value.get("signature"), str)
    ):
        raise AnchorError("not an anchor (seq, hash, at, public_key, signature)")
    if public_key is not None and key != public_key:
        raise AnchorError("signed by another key than this service's anchor key")
    signed = {name: value.get(name) for name in SIGNED_FIELDS}
    if not verify_receipt(key, signed, value["signature"]):
        raise AnchorError("its signature does not verify")
    return Anchor(anchor_hash, seq)


def browse(
    stores: Stores,
    where: AuditFilter,
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """Return one page of the audit log, newest first, narrowed by the filter."""
    with stores.read() as unit:
        return unit.audit.page(where, older_than=older_than, newer_than=newer_than, limit=limit)


def verify_stretch(
    stores: Stores, after_seq: int, after_hash: str, limit: int
) -> tuple[ChainCheck | None, ChainStretch]:
    """Check the next `limit` entries after a checked one; a verdict once the head is reached.

    The console walks a long chain this way, one request per stretch, so no request
    runs for minutes; the verdict is the same as `verify_chain`'s.
    """
    with stores.read() as unit:
        head_seq, head_hash = unit.audit.head()
        up_to = min(head_seq, after_seq + limit)
        stretch = check_stretch(unit.audit.records(up_to, after=after_seq), after_seq, after_hash)
    if stretch.broken_seq is None and stretch.last_seq < up_to < head_seq:
        # The stretch ended early: entries are missing after its last good one.
        stretch = ChainStretch(
            stretch.last_seq, stretch.last_hash, stretch.last_seq + 1, "entry is missing"
        )
    if stretch.broken_seq is not None or up_to == head_seq:
        return check_head(stretch, head_seq, head_hash), stretch
    return None, stretch
