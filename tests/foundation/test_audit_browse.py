"""Browsing the audit log: newest first, keyset pages that neither skip nor repeat, filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update

from feedbackvault.app import Services
from feedbackvault.domain.audit import GENESIS_HASH, AuditFilter, AuditRecord, ChainCheck
from feedbackvault.services.audit import browse, verify_chain, verify_stretch
from feedbackvault.storage.data_models import AuditEntry
from tests.support import behind_the_app

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def append(services: Services, entries: list[dict[str, object]]) -> None:
    with services.stores.data() as unit:
        for entry in entries:
            unit.audit.append(**entry)  # type: ignore[arg-type]


@pytest.fixture
def log(services: Services) -> list[dict[str, object]]:
    """Write 30 entries, one an hour from 20 Nov 2026 00:00, cycling actions and requests."""
    entries: list[dict[str, object]] = [
        {
            "at": DAY + timedelta(hours=i),
            "actor": "token:dpo",
            "action": ("request.created", "request.verified", "response.recorded")[i % 3],
            "request_id": f"req-{i % 4}" if i % 3 != 2 else None,
            "subject_ref": f"subj-{i % 5}",
        }
        for i in range(30)
    ]
    append(services, entries)
    return entries


def seqs(records: tuple[AuditRecord, ...]) -> list[int]:
    return [record.seq for record in records]


def test_the_first_page_is_the_newest_entries_newest_first(services: Services, log: list) -> None:
    page = browse(services.stores, AuditFilter(), limit=7)
    assert seqs(page.entries) == list(range(30, 23, -1))
    assert page.newer_than is None
    assert page.older_than == 24


def test_paging_older_visits_every_entry_once_and_ends(services: Services, log: list) -> None:
    seen: list[int] = []
    older_than = None
    for _ in range(10):
        page = browse(services.stores, AuditFilter(), older_than=older_than, limit=7)
        seen += seqs(page.entries)
        older_than = page.older_than
        if older_than is None:
            break
    assert seen == list(range(30, 0, -1))


def test_paging_newer_returns_to_the_page_before(services: Services, log: list) -> None:
    first = browse(services.stores, AuditFilter(), limit=7)
    second = browse(services.stores, AuditFilter(), older_than=first.older_than, limit=7)
    back = browse(services.stores, AuditFilter(), newer_than=second.newer_than, limit=7)
    assert seqs(back.entries) == seqs(first.entries)
    assert back.newer_than is None


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (AuditFilter(action="request.verified"), [i + 1 for i in range(30) if i % 3 == 1]),
        (
            AuditFilter(request_id="req-1"),
            [i + 1 for i in range(30) if i % 3 != 2 and i % 4 == 1],
        ),
        (AuditFilter(subject_ref="subj-3"), [i + 1 for i in range(30) if i % 5 == 3]),
        (
            AuditFilter(action="request.created", subject_ref="subj-0"),
            [i + 1 for i in range(30) if i % 3 == 0 and i % 5 == 0],
        ),
        (AuditFilter(action="no.such.action"), []),
    ],
)
def test_filters_keep_exactly_the_matching_entries(
    services: Services, log: list, where: AuditFilter, expected: list[int]
) -> None:
    page = browse(services.stores, where, limit=100)
    assert seqs(page.entries) == sorted(expected, reverse=True)


def test_a_date_range_includes_its_last_second_and_not_the_next_day(services: Services) -> None:
    moments = [
        DAY - timedelta(seconds=1),
        DAY,
        DAY + timedelta(days=1, seconds=-1),
        DAY + timedelta(days=1),
    ]
    append(services, [{"at": at, "actor": "a", "action": "x"} for at in moments])
    page = browse(
        services.stores, AuditFilter(from_day=date(2026, 11, 20), to_day=date(2026, 11, 20))
    )
    assert [record.at for record in page.entries] == [moments[2], moments[1]]


def test_a_date_range_finds_entries_written_slightly_out_of_time_order(
    services: Services,
) -> None:
    # Concurrent appenders read the clock before they wait for the chain head.
    moments = [DAY - timedelta(hours=1), DAY + timedelta(seconds=2), DAY - timedelta(seconds=1)]
    moments += [DAY + timedelta(hours=h) for h in range(1, 40)]
    append(services, [{"at": at, "actor": "a", "action": "x"} for at in moments])
    page = browse(
        services.stores, AuditFilter(from_day=date(2026, 11, 20), to_day=date(2026, 11, 20))
    )
    expected = sorted(
        (i + 1 for i, at in enumerate(moments) if at.date() == date(2026, 11, 20)), reverse=True
    )
    assert seqs(page.entries) == expected[:50]


def test_a_date_range_before_the_log_began_is_empty(services: Services, log: list) -> None:
    page = browse(services.stores, AuditFilter(to_day=date(2026, 1, 1)))
    assert page.entries == ()
    assert page.older_than is None


def test_browsing_changes_nothing_in_the_chain(services: Services, log: list) -> None:
    browse(services.stores, AuditFilter(action="request.created"))
    check = verify_chain(services.stores)
    assert check.intact
    assert check.entries == 30


@pytest.mark.parametrize("day", [1, 15, 29])
def test_a_day_is_found_exactly_in_a_long_log(services: Services, day: int) -> None:
    # Hourly entries for 30 days: several rounds of the search for each boundary.
    start = datetime(2026, 11, 1, tzinfo=UTC)
    append(
        services,
        [{"at": start + timedelta(hours=h), "actor": "a", "action": "x"} for h in range(720)],
    )
    wanted = date(2026, 11, day)
    page = browse(services.stores, AuditFilter(from_day=wanted, to_day=wanted), limit=100)
    assert seqs(page.entries) == list(range(24 * day, 24 * (day - 1), -1))


def walk(services: Services, limit: int) -> tuple[ChainCheck, int]:
    """Verify the chain a stretch at a time, as the console does; return the verdict and steps."""
    seq, hash_, steps = 0, GENESIS_HASH, 0
    while True:
        steps += 1
        check, stretch = verify_stretch(services.stores, seq, hash_, limit)
        if check is not None:
            return check, steps
        seq, hash_ = stretch.last_seq, stretch.last_hash


@pytest.mark.parametrize("limit", [1, 4, 7, 30, 1000])
def test_stretches_give_the_whole_chains_verdict(services: Services, log: list, limit: int) -> None:
    check, steps = walk(services, limit)
    assert check == verify_chain(services.stores)
    assert check.intact
    assert steps == max(1, -(-30 // limit))


@pytest.mark.parametrize("limit", [1, 4, 7, 1000])
@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEntry).where(AuditEntry.seq == 17).values(actor="mallory"),
        delete(AuditEntry).where(AuditEntry.seq == 17),
        delete(AuditEntry).where(AuditEntry.seq.between(12, 25)),
        delete(AuditEntry).where(AuditEntry.seq == 30),
    ],
)
def test_stretches_find_the_same_first_break(
    services: Services, log: list, limit: int, statement: Any
) -> None:
    behind_the_app(services, statement)  # the app's own role cannot change the log
    check, _ = walk(services, limit)
    whole = verify_chain(services.stores)
    assert not whole.intact
    assert (check.entries, check.broken_seq) == (whole.entries, whole.broken_seq)
