"""Give analysts anonymised aggregates and scores, never a row."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from feedbackvault.api.analytics.schemas import AggregatesSchema, ReportQuerySchema, ScoresSchema
from feedbackvault.api.auth import BEARER_SECURITY, current_caller, require_role
from feedbackvault.api.blueprint import Blueprint
from feedbackvault.api.context import services
from feedbackvault.scoring import Score
from feedbackvault.services.reporting import Noise, ReportQuery

blp = Blueprint(
    "analytics",
    __name__,
    url_prefix="/api/v1",
    description="Analysts: anonymised aggregates and scores",
)


@blp.route("/aggregates")
class Aggregates(MethodView):
    """Anonymised score histograms."""

    @require_role("analyst")
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(ReportQuerySchema(), location="query", unknown=ma.RAISE, as_kwargs=False)
    @blp.response(200, AggregatesSchema)
    def get(self, query: ReportQuery) -> dict[str, Any]:
        """Get score histograms of one survey, per group, with small groups suppressed.

        Counts only responses whose purpose allows aggregation, whose consent stands
        and has not expired, that have not expired and whose subject is not erased.
        `survey_id` and `metric` are required. `from`/`to` are whole UTC days
        (`YYYY-MM-DD`), both inclusive; a time of day is refused (422). A group is
        left out and counted in `suppressed_groups` when it has fewer than `k`
        responses or all of them gave the same score, and further groups are left
        out while the left-out ones together could be recovered by subtracting the
        published groups from the ungrouped total. Groups are sorted by key; each
        histogram lists every value of the scale, zeros included. When the policy
        sets differential privacy, counts carry geometric noise and `noise` says so.
        Without noise, two ranges differing by one day can still be subtracted: the
        audit log records every call with its parameters so such patterns are seen.
        """
        release = services().reporting.aggregates(query, current_caller().actor)
        return {
            "metric": release.metric,
            "k": release.k,
            "groups": [
                {
                    "key": group.key,
                    "n": group.n,
                    "histogram": {str(value): count for value, count in group.histogram.items()},
                }
                for group in release.groups
            ],
            "suppressed_groups": release.suppressed_groups,
            **_noise(release.noise),
        }


@blp.route("/scores")
class Scores(MethodView):
    """Anonymised NPS, CSAT and CES."""

    @require_role("analyst")
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(ReportQuerySchema(), location="query", unknown=ma.RAISE, as_kwargs=False)
    @blp.response(200, ScoresSchema)
    def get(self, query: ReportQuery) -> dict[str, Any]:
        """Get the score of one survey overall and per group, with small groups suppressed.

        Takes the same parameters and applies the same disclosure control as
        `/aggregates`. NPS is % promoters (9-10) minus % detractors (0-6) with
        Rocks's adjusted-Wald 95% interval; CSAT the % scoring 4-5 with a Wilson
        interval; CES the mean on 1-7 with a t interval, plus `ces_agree`, the %
        scoring 5-7. `overall` covers every counted response and is null when
        it fails disclosure control itself. Ungrouped, the one group is `all`.
        Every call is recorded in the audit log with its parameters.
        """
        release = services().reporting.scores(query, current_caller().actor)
        return {
            "metric": release.metric,
            "k": release.k,
            "overall": _score(release.overall) if release.overall else None,
            "groups": [{"key": group.key, **_score(group.score)} for group in release.groups],
            "suppressed_groups": release.suppressed_groups,
            **_noise(release.noise),
        }


def _score(score: Score) -> dict[str, Any]:
    """Shape a score for JSON; `ces_agree` only for CES."""
    shaped: dict[str, Any] = {"n": score.n, "score": score.score, "ci95": list(score.ci95)}
    if score.ces_agree is not None:
        shaped["ces_agree"] = score.ces_agree
    return shaped


def _noise(noise: Noise | None) -> dict[str, Any]:
    """Describe the noise of a release, or nothing when there is none."""
    return {"noise": {"mechanism": noise.mechanism, "epsilon": noise.epsilon}} if noise else {}
