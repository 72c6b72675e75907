"""Describe score histograms and check them against each metric's scale."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

# A histogram maps an answered score value to how many responses gave it. Values nobody
# chose may be absent; unanswered questions are never in it, so its total is the denominator.
Histogram = Mapping[int, int]

# Inclusive (lowest, highest) answer on each metric's scale, as collected (API.md).
METRIC_SCALES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
)


class ScoringError(ValueError):
    """A histogram or parameter cannot be scored."""


def validate_histogram(metric: str, histogram: Histogram) -> None:
    """Raise ScoringError unless every entry is a non-negative count of a value on the scale."""
    scale = METRIC_SCALES.get(metric)
    if scale is None:
        raise ScoringError(f"unknown metric {metric!r}; expected one of {sorted(METRIC_SCALES)}")
    low, high = scale
    # Typed as objects on purpose: the histogram comes from outside, so check what it holds.
    entries: Iterable[tuple[object, object]] = histogram.items()
    for value, count in entries:
        # bool is an int subclass; True as a score or a count is a caller's bug, not a 1.
        if not isinstance(value, int) or isinstance(value, bool):
            raise ScoringError(f"{metric} score value {value!r} is not an integer")
        if not low <= value <= high:
            raise ScoringError(f"{metric} score value {value} is outside {low}..{high}")
        if not isinstance(count, int) or isinstance(count, bool):
            raise ScoringError(f"count for {metric} score {value} is not an integer")
        if count < 0:
            raise ScoringError(f"count for {metric} score {value} is negative ({count})")


def total(histogram: Histogram) -> int:
    """Return the number of responses the histogram counts."""
    return sum(histogram.values())
