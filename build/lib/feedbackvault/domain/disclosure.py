"""Decide which aggregate groups may be released without revealing a respondent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# A group's histogram: score value -> number of responses that gave it.
GroupHistogram = Mapping[int, int]


@dataclass(frozen=True)
class Disclosure:
    """The groups that may be published, in the order given, and how many were held back."""

    published: dict[str, dict[int, int]]
    suppressed: int


def is_safe_cell(histogram: GroupHistogram, k: int) -> bool:
    """Tell whether a cell counts at least k responses that do not all give the same score."""
    n = sum(histogram.values())
    distinct = sum(1 for count in histogram.values() if count > 0)
    # A group where everyone gave the same score reveals each member's answer, whatever its size.
    return n >= k and distinct > 1


def disclose(groups: Mapping[str, GroupHistogram], k: int) -> Disclosure:
    """Suppress small and single-valued groups, and their complements, leaving safe groups only.

    The total over all groups is always released alongside them (as the scores' `overall`,
    or as the `all` group of an ungrouped query over the same rows), so whatever is held
    back can be recovered as the total minus the published groups. That residue must
    itself be a safe cell: while it is not, the smallest published group is suppressed
    too. When exactly one group is suppressed this is the classic complementary
    suppression rule (its count would otherwise follow by subtraction); it also covers
    several suppressed groups that together still hold fewer than k responses or share one
    score.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    held = {key for key, histogram in groups.items() if not is_safe_cell(histogram, k)}
    while held:
        residue = _sum_of(groups[key] for key in held)
        if is_safe_cell(residue, k):
            break
        candidates = [key for key in groups if key not in held]
        if not candidates:
            break
        # The smallest sibling costs analysts the least; ties go by key so results are stable.
        held.add(min(candidates, key=lambda key: (sum(groups[key].values()), key)))
    published = {key: dict(groups[key]) for key in groups if key not in held}
    return Disclosure(published=published, suppressed=len(held))


def _sum_of(histograms: Iterable[GroupHistogram]) -> dict[int, int]:
    """Add histograms value by value."""
    summed: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            summed[value] = summed.get(value, 0) + count
    return summed
