"""Claiming identifiers for a new subject: one statement on PostgreSQL, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from feedbackvault.app import Services
from feedbackvault.storage.key_repository import KeyClaim

KEY_CREATED = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EMAIL, CUSTOMER = b"\x01" * 32, b"\x02" * 32
RESPONDENT = {"email": "claim-canary-41c2@example.nl", "customer_id": "CUST-CLAIM-41c2"}


def key_row(subject_id: str) -> dict[str, object]:
    """A wrapped key as the key store holds it (the bytes need not open anything here)."""
    return {
        "subject_id": subject_id,
        "dek_version": 1,
        "kek_id": "kek-a",
        "wrapped_dek": subject_id.encode() * 4,
        "created_at": KEY_CREATED,
    }


def claim(services: Services, subject_id: str, digests: dict[str, bytes]) -> KeyClaim:
    """Offer a new subject's key for these digests."""
    with services.stores.key_claims() as unit:
        return unit.keys.claim(1, digests, key_row(subject_id))


def add_second_key_version(services: Services, subject_id: str) -> None:
    """Give a subject a newer key beside its first, as a rectification does until it retires it."""
    values = {"sid": subject_id, "wrapped": b"v2" * 16, "at": KEY_CREATED.replace(tzinfo=None)}
    with services.databases.keys_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO subject_key (subject_id, dek_version, kek_id, wrapped_dek,"
                " created_at) VALUES (:sid, 2, 'kek-b', :wrapped, :at)"
            ),
            values,
        )


def key_store(services: Services) -> tuple[list[tuple[str, str]], list[str]]:
    """Return every (kind, subject) index entry and every keyed subject, sorted."""
    with services.databases.keys_engine.connect() as connection:
        lookups = connection.execute(text("SELECT kind, subject_id FROM subject_lookup"))
        keys = connection.execute(text("SELECT subject_id FROM subject_key"))
        return sorted((str(k), str(s)) for k, s in lookups), sorted(str(s) for (s,) in keys)


def test_a_first_claim_indexes_the_digests_and_stores_the_key(services: Services) -> None:
    first = claim(services, "s-1", {"email": EMAIL, "customer_id": CUSTOMER})
    assert first == KeyClaim({}, {}, ("email", "customer_id"))
    assert key_store(services) == ([("customer_id", "s-1"), ("email", "s-1")], ["s-1"])


def test_a_claim_of_known_digests_writes_nothing_and_returns_the_owner_key(
    services: Services,
) -> None:
    claim(services, "s-1", {"email": EMAIL, "customer_id": CUSTOMER})
    again = claim(services, "s-2", {"email": EMAIL, "customer_id": CUSTOMER})
    assert again.owners == {"email": "s-1", "customer_id": "s-1"}
    assert again.indexed == ()
    assert again.keys["s-1"] == ("s-1", 1, "kek-a", b"s-1" * 4)
    # One digest known is enough to write nothing: the service decides what to add.
    partly = claim(services, "s-3", {"email": EMAIL, "customer_id": b"\x03" * 32})
    assert (partly.owners, partly.indexed) == ({"email": "s-1"}, ())
    assert key_store(services) == ([("customer_id", "s-1"), ("email", "s-1")], ["s-1"])


def test_a_claim_without_digests_stores_the_key_alone(services: Services) -> None:
    assert claim(services, "s-1", {}) == KeyClaim({}, {}, ())
    assert key_store(services) == ([], ["s-1"])


def test_resolve_creates_once_then_returns_the_same_subject_and_key(services: Services) -> None:
    created = services.subject_keys.resolve(services.stores, RESPONDENT)
    returning = services.subject_keys.resolve(services.stores, RESPONDENT)
    assert created.created and not returning.created
    assert [kind for kind, _ in created.indexed] == ["email", "customer_id"]
    assert (returning.subject_id, returning.dek) == (created.subject_id, created.dek)
    # A new identifier beside a known one is added to the known subject.
    more = services.subject_keys.resolve(
        services.stores, {"email": RESPONDENT["email"], "customer_id": "CUST-OTHER-41c2"}
    )
    assert more.subject_id == created.subject_id
    assert [kind for kind, _ in more.indexed] == ["customer_id"]
    lookups, keys = key_store(services)
    assert keys == [created.subject_id]
    assert [kind for kind, subject in lookups if subject == created.subject_id] == [
        "customer_id",
        "customer_id",
        "email",
    ]


def test_a_key_unit_after_a_claim_is_one_transaction_again(services: Services) -> None:
    """The claim's connection (autocommit on PostgreSQL) goes back to the pool as it came."""
    claim(services, "s-1", {"email": EMAIL})
    with pytest.raises(LookupError), services.stores.pipelined_keys() as unit:  # noqa: PT012
        unit.keys.add_key(key_row("s-2"))
        unit.keys.add_lookups(1, "s-2", {"customer_id": CUSTOMER})
        raise LookupError
    assert key_store(services) == ([("email", "s-1")], ["s-1"])


def test_a_lookup_finds_the_owners_and_every_key_version_of_them_and_of_the_earlier(
    services: Services,
) -> None:
    claim(services, "s-1", {"email": EMAIL, "customer_id": CUSTOMER})
    claim(services, "s-2", {"email": b"\x04" * 32})
    add_second_key_version(services, "s-1")
    unknown = b"\x05" * 32
    with services.stores.key_reads() as unit:
        owners, held = unit.keys.owners_and_keys(
            1, {"email": EMAIL, "customer_id": unknown}, also=["s-2", "s-gone", "s-2"]
        )
        nothing = unit.keys.owners_and_keys(1, {}, also=[])
        unmatched = unit.keys.owners_and_keys(1, {"email": unknown})
    assert owners == {"email": "s-1"}
    assert {sid: [(k.dek_version, k.kek_id) for k in keys] for sid, keys in held.items()} == {
        "s-1": [(1, "kek-a"), (2, "kek-b")],
        "s-2": [(1, "kek-a")],
    }
    assert held["s-2"][0].wrapped_dek == b"s-2" * 4
    assert nothing == unmatched == ({}, {})


def tombstones(services: Services) -> dict[str, datetime]:
    """Return every key tombstone's subject and moment."""
    with services.databases.keys_engine.connect() as connection:
        rows = connection.execute(text("SELECT subject_id, erased_at FROM key_tombstone"))
        return {str(sid): at if isinstance(at, datetime) else datetime.fromisoformat(at)
                for sid, at in rows}  # fmt: skip


def test_a_shred_destroys_every_key_version_and_entry_of_the_subjects_once(
    services: Services,
) -> None:
    # An id with the characters an array literal must escape shreds like any other.
    odd = 's-"odd", \\{x}'
    claim(services, "s-1", {"email": EMAIL, "customer_id": CUSTOMER})
    claim(services, odd, {"email": b"\x04" * 32})
    claim(services, "s-keep", {"email": b"\x06" * 32})
    add_second_key_version(services, "s-1")
    first_at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    with services.stores.pipelined_keys() as unit:
        shredded = unit.keys.shred(["s-1", odd, "s-never-keyed"], first_at)
    with services.stores.pipelined_keys() as unit:
        again = unit.keys.shred(["s-1", odd], datetime(2026, 12, 2, tzinfo=UTC))
        nothing = unit.keys.shred([], first_at)
    # Three key versions and three index entries; the keyless subject is tombstoned too.
    assert shredded == (3, 3)
    assert (again, nothing) == ((0, 0), (0, 0))
    assert key_store(services) == ([("email", "s-keep")], ["s-keep"])
    held = tombstones(services)
    assert sorted(held) == sorted(["s-1", odd, "s-never-keyed"])
    # A tombstone keeps the moment of the first shred.
    assert {at.replace(tzinfo=None) for at in held.values()} == {first_at.replace(tzinfo=None)}
