"""Release cells: frozen once made, same bytes after a restart, one release under concurrency."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from feedbackvault.app import Services, create_app
from feedbackvault.cli import main
from feedbackvault.settings import Settings
from tests.analytics.release_support import at, insert_responses
from tests.support import SHIPPED_POLICIES, FrozenClock, bearer, write_policies

SURVEY = "checkout-2026-q4"
DAY = date(2026, 11, 10)
OCTOBER = date(2026, 10, 10)


def _cells(services: Services) -> list[tuple[object, ...]]:
    """Return every stored cell, in key order."""
    with services.databases.data_engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT survey_id, metric, level, period, touchpoint, counts FROM release_cell "
                "ORDER BY survey_id, metric, level, period, touchpoint"
            )
        ).all()
    return [tuple(row) for row in rows]


def _get(services: Services, token: str, path: str, **params: str) -> bytes:
    """Call an analytics endpoint of a freshly built app and return the raw body."""
    client = create_app(services=services).test_client()
    response = client.get(f"/api/v1/{path}", query_string=params, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_data()


def test_same_request_same_bytes_after_a_restart(
    services: Services, settings: Settings, clock: FrozenClock
) -> None:
    insert_responses(services, SURVEY, DAY, [{"nps": i % 11, "ces": 1 + i % 7} for i in range(90)])
    token = services.tokens.create("analyst", "analytics")
    queries = [
        ("scores", {"metric": "nps", "group_by": "day", "from": "2026-11-01"}),
        ("aggregates", {"metric": "ces", "group_by": "week"}),
        ("scores", {"metric": "ces"}),
    ]
    before = [_get(services, token, path, survey_id=SURVEY, **q) for path, q in queries]
    services.databases.dispose()
    restarted = Services.build(settings, clock=clock)
    try:
        after = [_get(restarted, token, path, survey_id=SURVEY, **q) for path, q in queries]
        again = [_get(restarted, token, path, survey_id=SURVEY, **q) for path, q in queries]
    finally:
        restarted.databases.dispose()
    assert (after, again) == (before, before)


def test_released_cells_keep_responses_that_are_withdrawn_erased_or_expire(
    services: Services, clock: FrozenClock
) -> None:
    ids = insert_responses(services, SURVEY, DAY, [{"nps": 10}] * 40)
    clock.moment = at(DAY + timedelta(days=1), 9)
    report = services.releases.publish_closed_days()
    cells = _cells(services)
    with services.databases.data_engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE consent SET withdrawn_at = :now WHERE id IN "
                "(SELECT consent_id FROM response WHERE id = :id)"
            ),
            {"now": clock.moment.replace(tzinfo=None), "id": ids[0]},
        )
        connection.execute(text("DELETE FROM response WHERE id = :id"), {"id": ids[1]})
    clock.moment = at(DAY + timedelta(days=400), 9)  # every response has expired
    services.retention.sweep()
    services.releases.publish_closed_days()
    later = set(_cells(services))
    # The days released later count nothing from the expired responses.
    with services.databases.data_engine.connect() as connection:
        live = connection.execute(
            text("SELECT COUNT(*) FROM response WHERE anonymised_at IS NULL")
        ).scalar_one()
    # Every cell released before is still there, byte for byte, and more days came after.
    assert (report.days > 0, set(cells) <= later, len(later) > len(cells), live) == (
        True,
        True,
        True,
        0,
    )


def test_publish_releases_closed_days_once_and_says_so(
    services: Services, settings: Settings, clock: FrozenClock
) -> None:
    insert_responses(services, SURVEY, DAY, [{"csat": 5}] * 20)
    first = services.releases.publish_closed_days(through=date(2026, 11, 12))
    second = services.releases.publish_closed_days(through=date(2026, 11, 12))
    beyond = services.releases.publish_closed_days(through=date(2030, 1, 1))
    assert (first.through, first.days, second.days, second.cells) == (date(2026, 11, 12), 12, 0, 0)
    # At most up to yesterday, whatever is asked.
    assert (beyond.through, beyond.days) == (date(2026, 11, 23), 11)


def test_publish_command(services: Services, settings: Settings, monkeypatch: object) -> None:
    insert_responses(services, SURVEY, DAY, [{"csat": 5}] * 20)
    env = {
        "FEEDBACKVAULT_INSTANCE_DIR": str(settings.instance_dir),
        "FEEDBACKVAULT_DATABASE_URL": settings.database_url,
        "FEEDBACKVAULT_KEYSTORE_URL": settings.keystore_url,
    }
    result = CliRunner().invoke(main, ["releases", "publish", "--through", "2026-11-15"], env=env)
    assert result.exit_code == 0, result.output
    assert "released through 2026-11-15: 15 days" in result.output
    bad = CliRunner().invoke(main, ["releases", "publish", "--through", "2026-13-01"], env=env)
    assert bad.exit_code == 2


def test_concurrent_first_queries_make_one_release(services: Services, clock: FrozenClock) -> None:
    insert_responses(services, SURVEY, DAY, [{"nps": i % 11} for i in range(60)])
    barrier = threading.Barrier(4)
    answers: list[bytes] = []
    errors: list[BaseException] = []
    token = services.tokens.create("analyst", "analytics")

    def first_query() -> None:
        try:
            barrier.wait()
            answers.append(
                _get(services, token, "aggregates", survey_id=SURVEY, metric="nps", group_by="day")
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=first_query) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with services.databases.data_engine.connect() as connection:
        audits = connection.execute(
            text("SELECT COUNT(*) FROM audit_entry WHERE action = 'releases.published'")
        ).scalar_one()
    # One release: one audit entry, one set of cells, and every thread got the same answer.
    assert (errors, audits, len(set(answers)), len(answers)) == ([], 1, 1, 4)


def _with_policy(settings: Settings, tmp_path: Path, aggregation: str) -> Settings:
    """Return the settings over a copy of the shipped policies with another aggregation block."""
    shipped = (SHIPPED_POLICIES / "purposes.yaml").read_text(encoding="utf-8")
    rewritten = re.sub(r"(?ms)^aggregation:.*?(?=^purposes:)", aggregation + "\n", shipped)
    folder = write_policies(tmp_path / "custom-policies", rewritten)
    return dataclasses.replace(settings, policies_dir=folder)


def test_policy_lists_public_touchpoints_and_sets_the_budget(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    custom = _with_policy(
        settings, tmp_path, "aggregation:\n  k: 10\n  epsilon: 0.5\n  touchpoints: [kiosk]\n"
    )
    services = Services.build(custom, clock=clock)
    try:
        # 120 kiosk responses are too few to be selected at this budget, but the policy
        # lists the label; 120 keeps its released n (sd ~16 at eps 0.5) far above k.
        insert_responses(services, SURVEY, OCTOBER, [{"nps": 9}] * 120, touchpoint="kiosk")
        insert_responses(services, SURVEY, OCTOBER, [{"nps": 9}] * 30, touchpoint="rare")
        token = services.tokens.create("analyst", "analytics")
        body = json.loads(
            _get(
                services,
                token,
                "aggregates",
                survey_id=SURVEY,
                metric="nps",
                group_by="touchpoint",
                **{"from": "2026-10-10", "to": "2026-10-10"},
            )
        )
        surveys = json.loads(_get(services, token, "surveys"))["surveys"]
        with services.databases.data_engine.connect() as connection:
            epsilons = set(
                connection.execute(
                    text("SELECT DISTINCT epsilon FROM release_cell WHERE level <> 'days'")
                ).scalars()
            )
    finally:
        services.databases.dispose()
    assert [g["key"] for g in body["groups"]] == ["kiosk"]
    assert (body["epsilon"], surveys[0]["touchpoints"]) == (0.5, ["kiosk"])
    # Day and month cells (October is closed) spend 0.6 and 0.3 of the policy's 0.5.
    assert sorted(round(e, 6) for e in epsilons) == [0.15, 0.3]


def test_there_is_no_epsilon_option_for_analysts(services: Services) -> None:
    token = services.tokens.create("analyst", "analytics")
    client = create_app(services=services).test_client()
    for path in ("aggregates", "scores"):
        response = client.get(
            f"/api/v1/{path}",
            query_string={"survey_id": SURVEY, "metric": "nps", "epsilon": "50"},
            headers=bearer(token),
        )
        assert (response.status_code, list(response.get_json()["errors"])) == (422, ["epsilon"])
    # Nothing was released for a refused query.
    assert _cells(services) == []
