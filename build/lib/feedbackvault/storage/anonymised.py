"""What a response keeps when it is anonymised, by the sweep or by an erasure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, literal, literal_column

from feedbackvault.domain.ids import new_id

# What an anonymised response expires at: never. Its real expiry would give away
# the exact moment it was recorded (recorded + retention), which anonymising drops.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)

# The random part of an anonymised response's id on SQLite, which has no uuid function:
# the UUID text after the version digit (3 hex, the variant digit, 3 hex, 12 hex).
_SQLITE_RANDOM_TAIL = (
    "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1)"
    " || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))"
)


def anonymised_id_prefix(now: datetime) -> str:
    """Return the first 15 characters of the ids a statement anonymising at `now` gives out.

    The ids are UUIDv7: the moment in milliseconds, then 74 random bits. The moment is
    the one `anonymised_at` records anyway, and it is the same for the whole statement,
    so the ids tell nothing of the order or the old ids of the rows. What it buys: the
    new primary-key entries land side by side at the index's newest end instead of on
    random index pages (bench_sweep.py: anonymising 10,000 rows took 0.30 s with random
    UUIDs, 0.13-0.19 s with these; an erasure's 100 rows in place read ~35 cold leaves).
    """
    return new_id(now)[:15]


# What anonymising clears: every link to the respondent and every personal field.
_CLEARED = (
    "subject_id", "consent_id", "consent_expires_at", "email_ct", "name_ct",
    "customer_id_ct", "comment_ct", "created_at", "locale",
)  # fmt: skip
# PostgreSQL's random part of an anonymised id: a random UUID's text from its 16th place.
_POSTGRES_RANDOM_TAIL = "substr(CAST(gen_random_uuid() AS varchar), 16)"


def _random_tail(postgres: bool) -> str:
    return _POSTGRES_RANDOM_TAIL if postgres else _SQLITE_RANDOM_TAIL


def anonymised_values(now: datetime, *, postgres: bool) -> dict[str, Any]:
    """Give the values that strip a response down to scores, survey, touchpoint and month.

    The row also gets a fresh id (see `anonymised_id_prefix`): the old id is named
    in audit entries beside the subject, so keeping it would tie the anonymised
    scores back to a person. The expiry becomes NEVER: the real one is the
    recording moment plus the retention. The locale goes too: it adds nothing to
    an aggregate and a rare locale can single a respondent out in a small group.
    The consent record's expiry is cleared as well: it is the recording moment
    plus a retention, like expires_at.
    """
    random_tail: ColumnElement[str] = literal_column(_random_tail(postgres), String)
    return {
        "id": literal(anonymised_id_prefix(now), String) + random_tail,
        **dict.fromkeys(_CLEARED),
        "anonymised_at": now,
        "expires_at": NEVER,
    }


def anonymised_assignments(*, postgres: bool) -> str:
    """Write `anonymised_values` as the SET list of an UPDATE run on the driver's cursor.

    Its markers are `:anonymised_prefix`, `:anonymised_at` and `:never`
    (`anonymised_parameters` gives them).
    """
    cleared = ", ".join(f"{column} = NULL" for column in _CLEARED)
    return (
        f"id = :anonymised_prefix || {_random_tail(postgres)}, {cleared},"
        " anonymised_at = :anonymised_at, expires_at = :never"
    )


def anonymised_parameters(now: datetime) -> dict[str, Any]:
    """Give the values of the markers of `anonymised_assignments` at `now`."""
    return {"anonymised_prefix": anonymised_id_prefix(now), "anonymised_at": now, "never": NEVER}
