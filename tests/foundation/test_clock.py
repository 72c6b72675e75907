from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feedbackvault.domain.clock import isoformat_z

MOMENT = datetime(2027, 1, 31, 23, 59, 58, 999_999, tzinfo=UTC)


@pytest.mark.parametrize(
    "zone",
    [
        UTC,
        timezone(timedelta(hours=2)),
        timezone(timedelta(hours=-9, minutes=-30)),
        ZoneInfo("UTC"),
    ],
    ids=["utc", "east", "west", "zoneinfo-utc"],
)
def test_isoformat_z_gives_whole_utc_seconds_whatever_the_zone(zone):
    assert isoformat_z(MOMENT.astimezone(zone)) == "2027-01-31T23:59:58Z"


def test_isoformat_z_keeps_the_day_a_zone_shifts_across():
    # 00:30 at UTC+2 is 22:30 the day before in UTC.
    local = datetime(2027, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert isoformat_z(local) == "2027-02-28T22:30:00Z"
