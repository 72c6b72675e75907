"""Sum up each purpose for privacy officers: its rules and how much it holds now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from feedbackvault.domain.clock import Clock
from feedbackvault.domain.purposes import PolicySet, Purpose
from feedbackvault.storage.units import Stores

# The horizons of the expiry forecast: next week and next month.
FORECAST_DAYS = (7, 30)


@dataclass(frozen=True)
class PurposeOverview:
    """One purpose with its live responses and how many expire within 7 and 30 days."""

    purpose: Purpose
    live: int
    expiring_7_days: int
    expiring_30_days: int


def purpose_overview(stores: Stores, policies: PolicySet, clock: Clock) -> list[PurposeOverview]:
    """Describe every purpose with its live counts and expiry forecast, sorted by id."""
    now = clock.now()
    horizons = [now + timedelta(days=days) for days in FORECAST_DAYS]
    with stores.read() as unit:
        counts = unit.retention.count_live_and_expiring(now, horizons)
    overview = []
    for purpose in policies.ordered():
        live, in_7, in_30 = counts.get(purpose.id, (0, 0, 0))
        overview.append(PurposeOverview(purpose, live, in_7, in_30))
    return overview
