"""Record privacy-relevant acts and check the audit chain."""

from __future__ import annotations

from feedbackvault.domain.audit import AuditFilter, AuditPage, ChainCheck, check_chain
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
