"""Utility, interval coverage and release speed of the analysts' differentially private releases.

Usage:
  python bench/bench_releases.py            # 200 releases (utility), 500 per coverage cell
  python bench/bench_releases.py --smoke    # tiny, to check it runs

Utility and coverage run the service's own post-processing (scoring.estimate_groups,
nonnegative_counts, score) on cells noised by the service's sampler (OpenDP), at
aggregation.epsilon = 1 with the split of scoring/budget.py; they need no database.
- monthly overall NPS of a survey with 1,000 responses a month over 5 touchpoints
  (30 days, each touchpoint a shown label, plus the (other) cell): share of releases
  within ±4 points of the exact NPS;
- one touchpoint's NPS on one day with 200 responses, in a closed month: within ±10;
- coverage of the released ci95 of the population NPS (CSAT and CES too), drawing n
  responses from a fixed distribution, at n = 30, 100 and 1,000, for a touchpoint-day
  group (day cells only, the noisiest) and a whole month (month cell).
Speed: releasing one closed day of 10,000 responses (SQLite, or --database-url), the
bare SQL histogram of the same rows timed beside it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from feedbackvault.scoring import (
    METRIC_SCALES,
    BudgetSplit,
    DayCell,
    discrete_laplace,
    estimate_groups,
    nonnegative_counts,
    released_score,
)

BUDGET = BudgetSplit(1.0)
MONTH = date(2026, 10, 1)
DAYS = [MONTH + timedelta(days=i) for i in range(31)]
LABELS = ["t1", "t2", "t3", "t4", "t5"]
# A plausible NPS answer distribution (NPS about +20), 0..10.
NPS_WEIGHTS = [2, 1, 2, 2, 3, 4, 6, 10, 15, 25, 30]
CSAT_WEIGHTS = [5, 10, 15, 35, 35]
CES_WEIGHTS = [3, 5, 8, 14, 25, 25, 20]
WEIGHTS = {"nps": NPS_WEIGHTS, "csat": CSAT_WEIGHTS, "ces": CES_WEIGHTS}


def _histogram(rng: random.Random, metric: str, n: int) -> list[int]:
    """Draw n answers of the metric and count them per value."""
    counts = [0] * len(WEIGHTS[metric])
    for index in rng.choices(range(len(counts)), weights=WEIGHTS[metric], k=n):
        counts[index] += 1
    return counts


def _noised(cells: Sequence[list[int]], scale: float) -> list[tuple[int, ...]]:
    """Noise every count of every cell as a release does."""
    flat = discrete_laplace([c for cell in cells for c in cell], scale)
    width = len(cells[0])
    return [tuple(flat[i * width : (i + 1) * width]) for i in range(len(cells))]


def _release_month(
    truth: dict[tuple[date, str], list[int]],
) -> tuple[list[DayCell], dict[date, tuple[int, ...]]]:
    """Release a month of day cells per (day, label) and its month cell."""
    keys = sorted(truth)
    noised = _noised([truth[key] for key in keys], BUDGET.day_scale)
    day_cells = [
        DayCell(day, label, counts) for (day, label), counts in zip(keys, noised, strict=True)
    ]
    width = len(truth[keys[0]])
    month_truth = [sum(truth[key][i] for key in keys) for i in range(width)]
    (month_cell,) = _noised([month_truth], BUDGET.month_scale)
    return day_cells, {MONTH: month_cell}


def _estimate(
    metric: str, day_cells: list[DayCell], months: dict[date, tuple[int, ...]], key_of: Any
) -> dict[str, Any]:
    """Run the service's post-processing and score each group."""
    low = METRIC_SCALES[metric][0]
    width = METRIC_SCALES[metric][1] - low + 1
    estimates = estimate_groups(
        day_cells,
        months,
        width=width,
        day_variance=BUDGET.day_variance,
        month_variance=BUDGET.month_variance,
        key_of=key_of,
    )
    scored = {}
    for key, estimate in estimates.items():
        # Shown only when the released n reaches k = 10, as the service does.
        if sum(nonnegative_counts(estimate.values)) >= 10:
            values = {low + i: v for i, v in enumerate(estimate.values)}
            scored[key] = released_score(metric, values, estimate.variance)
    return scored


def _exact_nps(counts: Sequence[int]) -> float:
    """Return the exact NPS of a 0..10 histogram."""
    n = sum(counts)
    return 100 * (sum(counts[9:]) - sum(counts[:7])) / n


def _only(target: tuple[date, str]) -> Any:
    """Key only the target's day cell."""
    return lambda cell: "x" if (cell.day, cell.label) == target else None


def utility(runs: int, seed: int) -> dict[str, float]:
    """Share of releases within the issue's bounds, monthly overall and one touchpoint-day."""
    rng = random.Random(seed)
    monthly_ok = day_ok = 0
    monthly_errors: list[float] = []
    day_errors: list[float] = []
    for _ in range(runs):
        truth: dict[tuple[date, str], list[int]] = {}
        per_cell = 1000 // (len(DAYS) * len(LABELS))
        for day in DAYS:
            for label in LABELS:
                truth[(day, label)] = _histogram(rng, "nps", per_cell)
            truth[(day, "(other)")] = [0] * 11
        target = (DAYS[14], "t1")
        truth[target] = _histogram(rng, "nps", 200)
        day_cells, months = _release_month(truth)
        total = [sum(c[i] for c in truth.values()) for i in range(11)]
        overall = _estimate("nps", day_cells, months, lambda _cell: "all")["all"]
        one = _estimate("nps", day_cells, months, _only(target))["x"]
        monthly_errors.append(overall.score - _exact_nps(total))
        day_errors.append(one.score - _exact_nps(truth[target]))
        monthly_ok += abs(monthly_errors[-1]) <= 4
        day_ok += abs(day_errors[-1]) <= 10
    return {
        "monthly_overall_within_4": monthly_ok / runs,
        "monthly_overall_error_sd": round(statistics.pstdev(monthly_errors), 2),
        "touchpoint_day_within_10": day_ok / runs,
        "touchpoint_day_error_sd": round(statistics.pstdev(day_errors), 2),
    }


def _population(metric: str) -> float:
    """Return the population value of the metric's score under WEIGHTS."""
    weights = WEIGHTS[metric]
    p = [w / sum(weights) for w in weights]
    if metric == "nps":
        return 100 * (sum(p[9:]) - sum(p[:7]))
    if metric == "csat":
        return 100 * (p[3] + p[4])
    return sum((i + 1) * pi for i, pi in enumerate(p))


def coverage(runs: int, seed: int, sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Share of released ci95 that cover the population value, per metric, n and level."""
    rng = random.Random(seed)
    rows = []
    for metric in ("nps", "csat", "ces"):
        width = len(WEIGHTS[metric])
        truth_value = _population(metric)
        for n in sizes:
            for level in ("touchpoint-day", "month"):
                covered = total = 0
                for _ in range(runs):
                    truth = {(day, "(other)"): [0] * width for day in DAYS}
                    truth[(DAYS[10], "t1")] = _histogram(rng, metric, n)
                    day_cells, months = _release_month(truth)
                    if level == "month":
                        estimate = _estimate(metric, day_cells, months, lambda _cell: "m")
                    else:
                        estimate = _estimate(
                            metric,
                            day_cells,
                            months,
                            lambda cell: "d" if cell.label == "t1" else None,
                        )
                    released = next(iter(estimate.values()), None)
                    if released is None:
                        continue
                    total += 1
                    low, high = released.ci95
                    covered += low <= round(truth_value, 2) <= high
                rows.append(
                    {
                        "metric": metric,
                        "n": n,
                        "group": level,
                        "coverage": round(covered / max(total, 1), 3),
                        "scored": total,
                    }
                )
    return rows


def release_speed(
    responses: int, database_url: str | None, keystore_url: str | None
) -> dict[str, Any]:
    """Time releasing one closed day of `responses` responses, beside the bare SQL histogram."""
    from seeding import FixedClock, fresh_instance

    from feedbackvault.storage.data_models import CONSENT, RESPONSE

    day = date(2026, 11, 10)
    moment = datetime(2026, 11, 11, 9, tzinfo=UTC)
    with fresh_instance(
        "bench-releases-", moment, database_url, keystore_url, ("data",)
    ) as services:
        services.releases.clock = FixedClock(datetime(2026, 11, 10, 9, tzinfo=UTC))
        rng = random.Random(7)
        created = datetime(2026, 11, 10, 12, tzinfo=UTC)
        expires = created + timedelta(days=180)
        consents, rows = [], []
        for i in range(responses):
            consent_id = str(uuid.uuid4())
            consents.append(
                {
                    "id": consent_id,
                    "subject_id": None,
                    "purpose": "service-improvement",
                    "notice_version": "2026-01",
                    "given_at": created,
                    "recorded_at": created,
                    "expires_at": expires,
                    "withdrawn_at": None,
                    "withdraw_token_hash": uuid.uuid4().bytes * 2,
                    "receipt_signature": "x",
                    "responses_erased": None,
                }
            )
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "subject_id": None,
                    "consent_id": consent_id,
                    "consent_expires_at": expires,
                    "survey_id": "bench",
                    "purpose": "service-improvement",
                    "touchpoint": LABELS[i % 5],
                    "locale": None,
                    "nps": rng.randint(0, 10),
                    "csat": rng.randint(1, 5),
                    "ces": rng.randint(1, 7),
                    "created_at": created + timedelta(seconds=i % 40000),
                    "created_month": day.replace(day=1),
                    "expires_at": expires,
                    "anonymised_at": None,
                }
            )
        with services.databases.data_engine.begin() as connection:
            connection.execute(insert(CONSENT), consents)
            connection.execute(insert(RESPONSE), rows)
        # Days before are released first, so the timed run releases exactly one day.
        services.releases.publish_closed_days(through=day - timedelta(days=1))
        services.releases.clock = FixedClock(moment)
        started = time.perf_counter()
        report = services.releases.publish_closed_days(through=day)
        release_ms = (time.perf_counter() - started) * 1000
        engine = services.databases.data_engine
        bare = []
        for _ in range(5):
            started = time.perf_counter()
            with engine.connect() as connection:
                connection.execute(
                    text(
                        "SELECT touchpoint, nps, csat, ces, COUNT(*) FROM response "
                        "WHERE survey_id = 'bench' GROUP BY touchpoint, nps, csat, ces"
                    )
                ).all()
            bare.append((time.perf_counter() - started) * 1000)
        return {
            "dialect": engine.dialect.name,
            "responses_that_day": responses,
            "release_one_day_ms": round(release_ms, 1),
            "cells": report.cells,
            "bare_sql_histogram_p50_ms": round(statistics.median(bare), 1),
        }


def main() -> None:
    """Print utility, the coverage table and the release speed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="simulated releases (utility)")
    parser.add_argument(
        "--coverage-runs", type=int, default=500, help="simulated releases per coverage cell"
    )
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--database-url")
    parser.add_argument("--keystore-url")
    parser.add_argument("--smoke", action="store_true", help="5 runs, 500 responses")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.coverage_runs, args.responses = 5, 5, 500
    print(
        f"epsilon 1.0: day scale {BUDGET.day_scale:.3f} (variance {BUDGET.day_variance:.2f}), "
        f"month scale {BUDGET.month_scale:.3f} (variance {BUDGET.month_variance:.2f})"
    )
    print("utility:", utility(args.runs, 1))
    print("coverage of ci95 (population value):")
    print(f"{'metric':6} {'n':>5} {'group':15} {'coverage':>8} {'scored':>6}")
    for row in coverage(args.coverage_runs, 2, (30, 100, 1000)):
        print(
            f"{row['metric']:6} {row['n']:>5} {row['group']:15} "
            f"{row['coverage']:>8} {row['scored']:>6}"
        )
    print("release speed:", release_speed(args.responses, args.database_url, args.keystore_url))


if __name__ == "__main__":
    main()
