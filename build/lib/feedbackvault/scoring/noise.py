"""Add differentially private noise to released histogram counts."""

from __future__ import annotations

import math
import random

from feedbackvault.scoring.histogram import Histogram, ScoringError


def geometric_noise(epsilon: float, rng: random.Random) -> int:
    """Draw two-sided geometric noise for a count of sensitivity 1 at privacy level epsilon."""
    _check_epsilon(epsilon)
    # The two-sided geometric (discrete Laplace) mechanism, P(k) ∝ alpha^|k| with
    # alpha = exp(-epsilon), is epsilon-differentially private for integer counts of
    # sensitivity 1 and optimal among such mechanisms: Ghosh, A., Roughgarden, T. &
    # Sundararajan, M. (2009). Universally Utility-Maximizing Privacy Mechanisms. STOC '09.
    # It is the difference of two independent geometric draws, which is how we sample it.
    return _geometric(epsilon, rng) - _geometric(epsilon, rng)


def noisy_histogram(histogram: Histogram, epsilon: float, rng: random.Random) -> dict[int, int]:
    """Return the histogram with independent geometric noise on every count, floored at 0."""
    _check_epsilon(epsilon)
    if any(count < 0 for count in histogram.values()):
        raise ScoringError("histogram counts must be non-negative")
    # Adding or removing one response moves exactly one count by 1, so the whole histogram has
    # L1 sensitivity 1 and per-count noise at epsilon makes the release epsilon-DP. Clamping at
    # 0 is post-processing and costs no privacy. Only the keys given get noise: a caller must
    # pass every value of the scale, zeros included, or a key's mere presence reveals that
    # someone chose it.
    return {
        value: max(0, count + geometric_noise(epsilon, rng)) for value, count in histogram.items()
    }


def _geometric(epsilon: float, rng: random.Random) -> int:
    """Draw the number of failures before a success of probability 1 - exp(-epsilon)."""
    # Inversion: with U uniform on (0, 1], P(floor(-ln U / epsilon) >= k) = exp(-epsilon)^k.
    # 1 - random() avoids log(0). Floating-point sampling distorts the far tails slightly
    # (Mironov, I. (2012). On Significance of the Least Significant Bits for Differential
    # Privacy. CCS '12); that is acceptable for score histograms, not for secrets.
    u = 1.0 - rng.random()
    return math.floor(-math.log(u) / epsilon)


def _check_epsilon(epsilon: float) -> None:
    """Raise ScoringError unless epsilon is a positive finite privacy parameter."""
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ScoringError(f"epsilon must be a positive finite number, not {epsilon!r}")
