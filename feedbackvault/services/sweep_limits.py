"""The sweep's batch size and worker limits, apart so the CLI lists them without the sweep."""

from __future__ import annotations

# Responses per batch: large enough that per-transaction costs vanish, small
# enough that a batch holds its row locks for about a second (measured: 2,000
# to 20,000 sweep at the same rate, so the middle is taken).
DEFAULT_BATCH_SIZE = 10_000
# Sweepers one process may run side by side (each holds two pooled connections at most).
MAX_SWEEP_WORKERS = 4
