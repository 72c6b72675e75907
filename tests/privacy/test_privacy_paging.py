"""Cursor pages over the request listing and the audit log: complete, in order, at every edge."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from feedbackvault.app import Services
from tests.support import FrozenClock

BASE = "/api/v1/privacy"


def create(client: FlaskClient, officer: dict[str, str], clock: FrozenClock, n: int) -> list[str]:
    """Create `n` requests, one second apart (two share each second: ids break the tie)."""
    made = []
    for index in range(n):
        if index % 2 == 0:
            clock.advance(seconds=1)
        answer = client.post(
            f"{BASE}/requests",
            json={"kind": "access", "subject": {"email": f"p{index}@example.nl"}},
            headers=officer,
        )
        assert answer.status_code == 201
        made.append(answer.get_json()["id"])
    return made


def order(state: dict[str, Any]) -> tuple[str, str]:
    """Sort key of the request listing."""
    return state["received_at"], state["id"]


def walk(
    client: FlaskClient, officer: dict[str, str], first: str, key: str
) -> tuple[list[Any], list[int]]:
    """Follow `next` links from `first`; return every item and each page's size."""
    items: list[Any] = []
    sizes: list[int] = []
    address: str | None = first
    while address is not None:
        answer = client.get(address, headers=officer)
        assert answer.status_code == 200, answer.get_json()
        page = answer.get_json()
        items.extend(page[key])
        sizes.append(len(page[key]))
        address = page["next"]
        if address is None:
            assert "Link" not in answer.headers
        else:
            assert answer.headers["Link"] == f'<{address}>; rel="next"'
        assert len(sizes) < 50, "pages never end"
    return items, sizes


@pytest.mark.parametrize(
    ("count", "limit", "sizes"),
    [(0, 3, [0]), (2, 3, [2]), (3, 3, [3]), (4, 3, [3, 1]), (7, 3, [3, 3, 1])],
)
def test_request_pages_at_the_edges(
    count: int,
    limit: int,
    sizes: list[int],
    client: FlaskClient,
    officer: dict[str, str],
    clock: FrozenClock,
) -> None:
    made = create(client, officer, clock, count)
    items, seen_sizes = walk(client, officer, f"{BASE}/requests?limit={limit}", "requests")
    assert seen_sizes == sizes
    received = [(r["received_at"], r["id"]) for r in items]
    assert received == sorted(received)
    assert sorted(r["id"] for r in items) == sorted(made)


def test_a_page_keeps_its_filter_and_a_late_arrival_joins_the_end(
    client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    made = create(client, officer, clock, 5)
    client.post(f"{BASE}/requests/{made[1]}/reject", json={"reason": "dup"}, headers=officer)
    first = client.get(f"{BASE}/requests?status=received&limit=2", headers=officer).get_json()
    assert parse_qs(urlsplit(first["next"]).query)["status"] == ["received"]
    # Pages are positions in a stable order, not offsets: a new request does not shift them.
    later = create(client, officer, clock, 1)
    rest, _ = walk(client, officer, first["next"], "requests")
    listed = first["requests"] + rest
    assert [r["id"] for r in listed] == [r["id"] for r in sorted(listed, key=order)]
    assert {r["id"] for r in listed} == {made[0], made[2], made[3], made[4], *later}
    assert listed[-1]["id"] == later[0]


def test_overdue_is_a_status_filter(
    client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    late = create(client, officer, clock, 3)
    clock.advance(days=40)
    create(client, officer, clock, 2)
    items, sizes = walk(client, officer, f"{BASE}/requests?status=overdue&limit=2", "requests")
    assert sorted(r["id"] for r in items) == sorted(late) and sizes == [2, 1]
    assert items == sorted(items, key=order)
    assert all(r["overdue"] for r in items)


@pytest.mark.parametrize(
    "cursor", ["garbage", "", "eyJ4IjogMX0", "A" * 300, "%FF%FE", "MTIz", "bnVsbA"]
)
@pytest.mark.parametrize("listing", ["requests", "audit"])
def test_a_foreign_cursor_is_422(
    listing: str, cursor: str, client: FlaskClient, officer: dict[str, str]
) -> None:
    answer = client.get(f"{BASE}/{listing}?cursor={cursor}", headers=officer)
    assert answer.status_code == 422, answer.get_json()
    assert "cursor" in answer.get_json()["errors"]


def test_a_cursor_of_one_listing_does_not_open_the_other(
    client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    create(client, officer, clock, 3)
    requests_next = client.get(f"{BASE}/requests?limit=1", headers=officer).get_json()["next"]
    audit_next = client.get(f"{BASE}/audit?limit=1", headers=officer).get_json()["next"]
    requests_cursor = parse_qs(urlsplit(requests_next).query)["cursor"][0]
    audit_cursor = parse_qs(urlsplit(audit_next).query)["cursor"][0]
    assert client.get(f"{BASE}/audit?cursor={requests_cursor}", headers=officer).status_code == 422
    assert client.get(f"{BASE}/requests?cursor={audit_cursor}", headers=officer).status_code == 422


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "x"])
def test_a_bad_page_size_is_422(limit: str, client: FlaskClient, officer: dict[str, str]) -> None:
    for listing in ("requests", "audit"):
        answer = client.get(f"{BASE}/{listing}?limit={limit}", headers=officer)
        assert answer.status_code == 422
        assert "limit" in answer.get_json()["errors"]


@pytest.mark.parametrize(
    ("count", "limit", "sizes"), [(0, 4, [0]), (1, 4, [1]), (4, 4, [4]), (5, 4, [4, 1])]
)
def test_the_whole_audit_log_can_be_browsed(
    count: int,
    limit: int,
    sizes: list[int],
    client: FlaskClient,
    officer: dict[str, str],
    clock: FrozenClock,
    services: Services,
) -> None:
    # Token creation is audited too: start from an empty log.
    with services.databases.data_engine.begin() as connection:
        if services.stores.dialect == "postgresql":
            # The app's role cannot change the audit log (0012); the superuser's can.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("DELETE FROM audit_entry"))
        connection.execute(
            text("UPDATE audit_head SET seq = 0, hash = :genesis"), {"genesis": "0" * 64}
        )
    create(client, officer, clock, count)  # one audit entry each
    items, seen_sizes = walk(client, officer, f"{BASE}/audit?limit={limit}", "entries")
    assert seen_sizes == sizes
    seqs = [entry["seq"] for entry in items]
    assert seqs == list(range(1, count + 1))
    assert all(entry["action"] == "request.created" for entry in items)


def test_audit_pages_keep_their_filter(
    client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    target, other = create(client, officer, clock, 2)
    for request_id in (target, other, target, other, target):
        client.post(
            f"{BASE}/requests/{request_id}/extend",
            json={"months": 1, "reason": "busy"},
            headers=officer,
        )
    first = f"{BASE}/audit?request_id={target}&limit=1"
    items, sizes = walk(client, officer, first, "entries")
    # created and one extension (the second and third extensions are 409 and not audited)
    assert [e["action"] for e in items] == ["request.created", "request.extended"]
    assert {e["request_id"] for e in items} == {target}
    assert sizes == [1, 1]


def test_audit_still_refuses_two_filters(client: FlaskClient, officer: dict[str, str]) -> None:
    answer = client.get(f"{BASE}/audit?request_id=a&subject_ref=b", headers=officer)
    assert answer.status_code == 422
