"""Every page of the follow-up queue walks its index from the cursor, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from feedbackvault.app import Services
from feedbackvault.storage.follow_up_repository import QueueFilter, page_query

NOW = datetime(2027, 1, 1, tzinfo=UTC)
PURPOSE = "support-follow-up"


@pytest.mark.parametrize(
    ("wanted", "band", "after"),
    [
        (QueueFilter([PURPOSE], "open"), None, None),
        (QueueFilter([PURPOSE], "open"), 0, None),
        (QueueFilter([PURPOSE], "open", "s", "csat", 2), 1, (NOW, "0" * 36)),
        (QueueFilter([PURPOSE], "done"), None, (NOW, "0" * 36)),
    ],
)
def test_queue_pages_use_the_follow_up_index_and_never_scan_responses(
    services: Services,
    backend: str,
    wanted: QueueFilter,
    band: int | None,
    after: tuple[datetime, str] | None,
) -> None:
    with services.stores.read() as unit:
        connection = unit.session.connection()
        compiled = page_query(wanted, PURPOSE, NOW, band, after, 51).compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}
        )
        if backend == "postgresql":
            # Sequential scans priced out: on an empty test table any plan is cheap.
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            rows = connection.execute(text(f"EXPLAIN {compiled}")).all()
        else:
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    plan = "\n".join(str(row[-1]) for row in rows)
    assert "ix_response_follow_up" in plan, plan
    assert "SCAN response" not in plan and "Seq Scan on response" not in plan, plan
