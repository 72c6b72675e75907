"""Record privacy-relevant acts and check the audit chain."""

from __future__ import annotations

from feedbackvault.domain.audit import (
    AuditFilter,
    AuditPage,
    ChainCheck,
    ChainStretch,
    check_chain,
    check_head,
    check_stretch,
)
from feedbackvault.storage.units import Stores

# Entries per page of the console's audit log: a screen or two of a dense table.
PAGE_SIZE = 50


def verify_chain(stores: Stores) -> ChainCheck:
    """Walk the whole audit chain and report the first broken entry, if any."""
    with stores.data() as unit:
        head_seq, head_hash = unit.audit.head()
        return check_chain(unit.audit.records(up_to=head_seq), head_seq, head_hash)


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
