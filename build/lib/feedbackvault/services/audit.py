"""Record privacy-relevant acts and check the audit chain."""

from __future__ import annotations

from feedbackvault.domain.audit import ChainCheck, check_chain
from feedbackvault.storage.units import Stores


def verify_chain(stores: Stores) -> ChainCheck:
    """Walk the whole audit chain and report the first broken entry, if any."""
    with stores.data() as unit:
        head_seq, head_hash = unit.audit.head()
        return check_chain(unit.audit.records(up_to=head_seq), head_seq, head_hash)
