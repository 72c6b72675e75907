"""Read analysts' releases for the console in the JSON shapes of API.md's analytics answers.

The scores page reads `/surveys`, `/aggregates` and `/scores` exactly as an API client
would, from the same service calls the API views make, so the page shows what the API
shows and nothing else. Only this module knows the service's return types.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from feedbackvault.scoring import METRIC_SCALES, Score
from feedbackvault.services.reporting import ReportQuery

if TYPE_CHECKING:
    from feedbackvault.app import Services


def surveys(services: Services, actor: str) -> dict[str, Any]:
    """Answer as `GET /api/v1/surveys`: the surveys an analyst can pick from."""
    return {"surveys": [_survey(summary) for summary in services.reporting.surveys(actor)]}


def aggregates(services: Services, query: ReportQuery, actor: str) -> dict[str, Any]:
    """Answer as `GET /api/v1/aggregates` for this query."""
    release = services.reporting.aggregates(_closed(services, query), actor)
    return {
        "metric": release.metric,
        "k": release.k,
        **_release_terms(services, release, query),
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


def scores(services: Services, query: ReportQuery, actor: str) -> dict[str, Any]:
    """Answer as `GET /api/v1/scores` for this query."""
    release = services.reporting.scores(_closed(services, query), actor)
    return {
        "metric": release.metric,
        "k": release.k,
        **_release_terms(services, release, query),
        "overall": _score(release.overall) if release.overall else None,
        "groups": [{"key": group.key, **_score(group.score)} for group in release.groups],
        "suppressed_groups": release.suppressed_groups,
    }


def scale(metric: str) -> tuple[int, int]:
    """Return the lowest and highest answer of a metric's scale."""
    low, high = METRIC_SCALES[metric][0], METRIC_SCALES[metric][-1]
    return int(low), int(high)


def _survey(summary: Any) -> dict[str, Any]:
    return {
        "survey_id": summary.survey_id,
        "touchpoints": list(summary.touchpoints),
        "metrics": list(summary.metrics),
        "first_day": summary.first_day.isoformat() if summary.first_day else None,
        "released_through": summary.released_through.isoformat(),
    }


def _score(score: Score) -> dict[str, Any]:
    shaped: dict[str, Any] = {"n": score.n, "score": score.score, "ci95": list(score.ci95)}
    if score.ces_agree is not None:
        shaped["ces_agree"] = score.ces_agree
    return shaped


def _release_terms(services: Services, release: Any, query: ReportQuery) -> dict[str, Any]:
    """Name the release's budget and last day, as released or (before releases) as asked."""
    epsilon = getattr(release, "epsilon", None)
    noise = getattr(release, "noise", None)
    if epsilon is None and noise is not None:
        epsilon = noise.epsilon
    through = getattr(release, "released_through", None) or _closed(services, query).end
    return {
        "epsilon": epsilon,
        "released_through": through.isoformat() if isinstance(through, date) else None,
    }


def _last_closed_day(services: Services) -> date:
    return services.clock.now().date() - timedelta(days=1)


def _closed(services: Services, query: ReportQuery) -> ReportQuery:
    """Leave out days not yet closed, as releases do (the current day is never released)."""
    last = _last_closed_day(services)
    end = last if query.end is None else min(query.end, last)
    start = query.start if query.start is None or query.start <= end else end
    return ReportQuery(query.survey_id, query.metric, query.group_by, start, end)
