"""Give analysts differentially private releases and scores computed from them, never a row."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from feedbackvault.api.analytics.schemas import (
    AggregatesSchema,
    ReportQuerySchema,
    ScoresSchema,
    SurveysSchema,
)
from feedbackvault.api.auth import BEARER_SECURITY, current_caller, require_role
from feedbackvault.api.blueprint import Blueprint
from feedbackvault.api.context import services
from feedbackvault.scoring import Score
from feedbackvault.services.reporting import ReportQuery

blp = Blueprint(
    "analytics",
    __name__,
    url_prefix="/api/v1",
    description="Analysts: differentially private releases of scores",
)

_RELEASES = """
Analysts never see live counts. Every answer is computed from **release cells**:
per survey, metric and closed UTC day, one noisy histogram per touchpoint cell (each
label shown, `none` once selected, and one cell pooling everything not shown), and
per closed month one noisy histogram of the whole survey. Every count of the scale,
zeros included, gets independent discrete Laplace noise (OpenDP's exact sampler). A
cell is made once, no later than the first query that needs it (or by `feedbackvault
releases publish`),
stored and never recomputed: withdrawal, erasure and expiry afterwards leave it as
it is. The current UTC day is never released.

**Privacy budget.** The unit of privacy is one response. `aggregation.epsilon` (ε,
default 1.0) bounds its privacy loss per metric over everything ever released
(ε-differential privacy; neighbouring datasets differ by one response), split as:
0.1·ε to select touchpoint labels (thresholded Laplace, δ ≤ 1e-6, on the day the
response is released), 0.6·ε for its day cell (noise scale 1/(0.6·ε): variance
≈ 5.4 per count at ε = 1) and 0.3·ε for its month cell (scale 1/(0.3·ε):
variance ≈ 22.1 per count at ε = 1). Touchpoint cells partition a day's responses,
so one response is in one day cell and one month cell.

**Estimates.** A group is the sum of its day cells in the window, each month's
day cells first made consistent with the month's cell (inverse-variance weighting,
then spread evenly over the days), rounded onto non-negative integers of the same
total. Whole months therefore have the month cell's accuracy (±2-3 NPS points at
1,000 responses a month, ε = 1); a touchpoint over a month sums its day cells.
`from`/`to` are whole UTC days, both inclusive (a time of day is refused: 422);
days not yet closed are left out and `released_through` names the last day
included. A group whose released `n` is below `k` is left out and counted in
`suppressed_groups`. Touchpoint labels are shown only once selected privately or
listed in the policy; other labels count in `all` and calendar groups only. The
same request always gets the same bytes while no further day closes in its window.
"""


@blp.route("/aggregates")
class Aggregates(MethodView):
    """Released score histograms."""

    @require_role("analyst")
    @blp.doc(security=BEARER_SECURITY, description=_RELEASES)
    @blp.arguments(ReportQuerySchema(), location="query", unknown=ma.RAISE, as_kwargs=False)
    @blp.response(200, AggregatesSchema)
    def get(self, query: ReportQuery) -> dict[str, Any]:
        """Get released score histograms of one survey, per group."""
        release = services().reporting.aggregates(query, current_caller().actor)
        return {
            "metric": release.metric,
            "k": release.k,
            "epsilon": release.epsilon,
            "released_through": release.released_through.isoformat(),
            "groups": [
                {
                    "key": group.key,
                    "n": group.n,
                    "histogram": {str(value): count for value, count in group.histogram.items()},
                }
                for group in release.groups
            ],
            "suppressed_groups": release.suppressed_groups,
        }


@blp.route("/scores")
class Scores(MethodView):
    """NPS, CSAT and CES of the releases."""

    @require_role("analyst")
    @blp.doc(security=BEARER_SECURITY, description=_RELEASES)
    @blp.arguments(ReportQuerySchema(), location="query", unknown=ma.RAISE, as_kwargs=False)
    @blp.response(200, ScoresSchema)
    def get(self, query: ReportQuery) -> dict[str, Any]:
        """Get the score of one survey overall and per group, from the releases.

        NPS is % promoters (9-10) minus % detractors (0-6) with Rocks's adjusted-Wald
        interval; CSAT the % scoring 4-5 with a Wilson interval; CES the mean on 1-7
        with a t interval at every n, plus `ces_agree`, the % scoring 5-7. Each interval
        adds the noise variance of the released counts to the sampling variance.
        `overall` is null when its released n is below k.
        """
        release = services().reporting.scores(query, current_caller().actor)
        return {
            "metric": release.metric,
            "k": release.k,
            "epsilon": release.epsilon,
            "released_through": release.released_through.isoformat(),
            "overall": _score(release.overall) if release.overall else None,
            "groups": [{"key": group.key, **_score(group.score)} for group in release.groups],
            "suppressed_groups": release.suppressed_groups,
        }


@blp.route("/surveys")
class Surveys(MethodView):
    """Surveys with releases."""

    @require_role("analyst")
    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, SurveysSchema)
    def get(self) -> dict[str, Any]:
        """List the surveys with a released cell whose n reaches k, releasing closed days first.

        `touchpoints` lists the labels selected privately or listed in the policy only.
        """
        summaries = services().reporting.surveys(current_caller().actor)
        return {
            "surveys": [
                {
                    "survey_id": summary.survey_id,
                    "touchpoints": summary.touchpoints,
                    "metrics": summary.metrics,
                    "first_day": summary.first_day.isoformat(),
                    "released_through": summary.released_through.isoformat(),
                }
                for summary in summaries
            ]
        }


def _score(score: Score) -> dict[str, Any]:
    """Shape a score for JSON; `ces_agree` only for CES."""
    shaped: dict[str, Any] = {"n": score.n, "score": score.score, "ci95": list(score.ci95)}
    if score.ces_agree is not None:
        shaped["ces_agree"] = score.ces_agree
    return shaped
