"""Count rate-limit hits in process memory, expiring windows as they are read.

The `limits` package's own memory storage restarts a timer thread (every 10 ms)
to drop old windows; at hundreds of submissions a second a worker started a new
thread for most of them, about 5% of a submission's time (py-spy, bench_ingest.py
--profile). Fixed windows need no timer: a window past its end counts as empty when
it is next read, and windows nobody reads any more are dropped in one pass a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from limits.storage import Storage

# The scheme the limiter is given for `FEEDBACKVAULT_RATE_LIMIT_STORAGE=memory://`.
SCHEME = "feedbackvault-memory"
# How often windows that ended are dropped from memory (seconds).
PRUNE_EVERY_S = 60.0


class WindowCounters(Storage):
    """Fixed-window counters of one process: a count and an end time per key."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - the base class declares it a plain list
    # Seconds since the epoch; tests replace it on an instance to move time on.
    clock: Callable[[], float] = staticmethod(time.time)

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._windows: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0  # the first hit prunes (nothing) and sets the next time

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """Name the errors this storage raises (none it expects)."""
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to the key's window, opening one of `expiry` seconds if none is open."""
        now = self.clock()
        with self._lock:
            if now >= self._next_prune:
                self._prune(now)
            count, ends = self._windows.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + expiry
            count += amount
            self._windows[key] = (count, ends)
            return count

    def get(self, key: str) -> int:
        """Return the count in the key's open window (0 when none is open)."""
        count, ends = self._windows.get(key, (0, 0.0))
        return count if ends > self.clock() else 0

    def get_expiry(self, key: str) -> float:
        """Return when the key's window ends (now when none is open)."""
        now = self.clock()
        _, ends = self._windows.get(key, (0, now))
        return max(ends, now)

    def check(self) -> bool:
        """Report the storage healthy: process memory is always there."""
        return True

    def reset(self) -> int | None:
        """Drop every window and say how many there were."""
        with self._lock:
            dropped = len(self._windows)
            self._windows.clear()
        return dropped

    def clear(self, key: str) -> None:
        """Drop one key's window."""
        with self._lock:
            self._windows.pop(key, None)

    def _prune(self, now: float) -> None:
        self._windows = {key: kept for key, kept in self._windows.items() if kept[1] > now}
        self._next_prune = now + PRUNE_EVERY_S
