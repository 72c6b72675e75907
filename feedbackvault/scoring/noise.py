"""Draw differentially private noise and select labels privately, with OpenDP's exact samplers."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import opendp.prelude as dp

from feedbackvault.scoring.histogram import ScoringError

# OpenDP keeps measurements whose proofs are still under review behind this flag; the
# discrete Laplace and the thresholded Laplace used here are among them in 0.16.
dp.enable_features("contrib")


def discrete_laplace(counts: Sequence[int], scale: float) -> list[int]:
    """Return the counts each plus independent discrete Laplace noise of the given scale.

    The discrete Laplace (two-sided geometric) mechanism, P(k) ∝ exp(-|k| / scale), is
    (1/scale)-differentially private for integer vectors of L1 sensitivity 1 (Ghosh,
    Roughgarden & Sundararajan, STOC '09). OpenDP samples it exactly from integer
    arithmetic and OS randomness (Canonne, Kamath & Steinke, NeurIPS '20), so no floating
    point artefact leaks the count (Mironov, CCS '12). Adding or removing one response
    moves exactly one count of a histogram by 1, and a response lies in one cell of a
    level, so one call over a whole level's concatenated cells costs 1/scale.
    """
    if not counts:
        return []
    noised: list[int] = _vector_mechanism(_checked_scale(scale))(list(counts))
    return noised


def privacy_loss(scale: float) -> float:
    """Return the epsilon OpenDP's privacy map proves for one response at this scale."""
    loss: float = _vector_mechanism(_checked_scale(scale)).map(1)
    return loss


def discrete_laplace_variance(scale: float) -> float:
    """Return the variance of discrete Laplace noise: 2·a / (1 - a)² with a = exp(-1/scale)."""
    alpha = math.exp(-1 / _checked_scale(scale))
    return 2 * alpha / (1 - alpha) ** 2


def discrete_laplace_pmf(k: int, scale: float) -> float:
    """Return P(noise = k) = (1 - a) / (1 + a) · a^|k| with a = exp(-1/scale)."""
    alpha = math.exp(-1 / _checked_scale(scale))
    return (1 - alpha) / (1 + alpha) * alpha ** abs(k)


def select_labels(counts: Mapping[str, int], epsilon: float, delta: float) -> set[str]:
    """Return the labels whose noisy count passes the threshold: (epsilon, delta)-DP.

    OpenDP's thresholded Laplace mechanism (partition selection): each response counts
    once, under one label, and a label is released only when its count plus Laplace noise
    at scale 1/epsilon reaches a threshold chosen so that a label used by a single
    response appears with probability at most delta (Wilson et al., PETS 2020).
    """
    if not counts:
        return set()
    selected: dict[str, int] = _threshold_mechanism(*_threshold(epsilon, delta))(dict(counts))
    return set(selected)


def selection_threshold(epsilon: float, delta: float) -> int:
    """Return the smallest threshold at which OpenDP proves (epsilon, delta)."""
    return _threshold(epsilon, delta)[1]


@functools.lru_cache(maxsize=32)
def _vector_mechanism(scale: float) -> Any:
    """Build OpenDP's discrete Laplace measurement on integer vectors (cached per scale)."""
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    return dp.m.make_laplace(*space, scale=scale)


def _label_space() -> tuple[Any, Any]:
    """Return OpenDP's domain and metric of a label-to-count map, one response per label."""
    domain = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    return domain, dp.l01inf_distance(dp.absolute_distance(T=int))


@functools.lru_cache(maxsize=32)
def _threshold(epsilon: float, delta: float) -> tuple[float, int]:
    """Return (scale, threshold): the least threshold whose privacy map meets delta."""
    if not (math.isfinite(epsilon) and epsilon > 0) or not 0 < delta < 1:
        raise ScoringError("selection needs a positive epsilon and a delta in (0, 1)")
    scale = 1 / epsilon
    # Start below the analytic bound 1 + scale·ln(1/(2δ)) and let OpenDP's own map decide.
    threshold = max(1, int(scale * math.log(1 / (2 * delta))) - 2)
    while True:
        loss, achieved = _threshold_mechanism(scale, threshold).map((1, 1, 1))
        if achieved <= delta and loss <= epsilon * (1 + 1e-9):
            return scale, threshold
        threshold += 1


@functools.lru_cache(maxsize=32)
def _threshold_mechanism(scale: float, threshold: int) -> Any:
    """Build OpenDP's thresholded Laplace measurement on label counts (cached)."""
    return dp.m.make_laplace_threshold(*_label_space(), scale=scale, threshold=threshold)


def _checked_scale(scale: float) -> float:
    """Raise ScoringError unless the scale is a positive finite number."""
    if not (math.isfinite(scale) and scale > 0):
        raise ScoringError(f"noise scale must be a positive finite number, not {scale!r}")
    return float(scale)
