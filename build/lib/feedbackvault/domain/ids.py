"""Make the ids of stored rows: UUIDv7, time-ordered, random below the millisecond.

A UUIDv7 (RFC 9562) starts with the Unix time in milliseconds, then holds 74
random bits. Rows made together get ids that sort together, so a primary-key
index grows at its end and rows that expire together (they were stored
together) sit on neighbouring index pages. The retention sweep and the
shredder probe those indexes for every row they remove; with random (v4) ids
each probe landed on a page of its own, read from disk more often than not
once the indexes outgrew the database's cache (bench_sweep.py, README).

What an id gives away is the moment its row was made, to the millisecond, which
every such row stores in clear beside it anyway (`created_at`, `recorded_at`).
An anonymised response, which must not keep that moment, gets a new id
(retention_repository.py).
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime

# Version 7 in the top nibble of the seventh byte, variant 0b10 in the ninth (RFC 9562).
_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_RANDOM_A = (1 << 12) - 1  # 12 random bits after the version
_RANDOM_B = (1 << 62) - 1  # 62 random bits after the variant


def new_id(at: datetime) -> str:
    """Return a fresh UUIDv7 as text, for the moment `at` (the service clock's, not the host's)."""
    millis = int(at.timestamp() * 1000)
    random = int.from_bytes(os.urandom(10))
    value = (
        (millis & 0xFFFF_FFFF_FFFF) << 80
        | _VERSION
        | ((random >> 62) & _RANDOM_A) << 64
        | _VARIANT
        | (random & _RANDOM_B)
    )
    return str(uuid.UUID(int=value))
