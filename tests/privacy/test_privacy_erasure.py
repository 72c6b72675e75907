"""Erasure destroys a subject's data and keys in both stores, certifiably and for good."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import delete, insert, select, text

from feedbackvault.app import Services
from feedbackvault.cli import main
from feedbackvault.crypto.envelope import unwrap_dek
from feedbackvault.crypto.errors import DecryptionFailed
from feedbackvault.crypto.fields import FieldContext, decrypt_field
from feedbackvault.domain.errors import Conflict
from feedbackvault.services.audit import verify_chain
from feedbackvault.services.erasure import ErasureService
from feedbackvault.storage.data_models import AuditEntry, ErasureTombstone, Response
from feedbackvault.storage.keystore_models import KeyTombstone, SubjectKey, SubjectLookup
from feedbackvault.storage.migrate import METADATA
from tests.support import row_counts, stored_bytes, submission

BASE = "/api/v1/privacy"
CANARY = {
    "email": "canary-erase@example.nl",
    "name": "Canary Erasmus",
    "customer_id": "CANARY-C-77",
}
CANARY_COMMENT = "canary comment zwaluw"
KEEPER = {"email": "keeper@example.nl", "name": "Kees Keeper", "customer_id": "C-KEEP"}


def seed(client: FlaskClient, collector: dict[str, str]) -> None:
    for purpose, answers in (
        ("service-improvement", {"nps": 3, "comment": CANARY_COMMENT}),
        ("product-research", {"nps": 5, "comment": CANARY_COMMENT}),
        ("support-follow-up", {"csat": 2, "comment": CANARY_COMMENT}),
    ):
        respondent = CANARY if purpose != "product-research" else {"email": CANARY["email"]}
        body = submission(purpose=purpose, respondent=respondent, answers=answers)
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    keeper = submission(respondent=KEEPER, answers={"nps": 10, "comment": "blijft staan"})
    assert client.post("/api/v1/responses", json=keeper, headers=collector).status_code == 201


def request(
    client: FlaskClient, officer: dict[str, str], kind: str, subject: dict[str, str]
) -> str:
    created = client.post(
        f"{BASE}/requests", json={"kind": kind, "subject": subject}, headers=officer
    ).get_json()
    client.post(f"{BASE}/requests/{created['id']}/verify", json={"method": "m"}, headers=officer)
    return str(created["id"])


def erase(client: FlaskClient, officer: dict[str, str], subject: dict[str, str]) -> dict[str, Any]:
    request_id = request(client, officer, "erasure", subject)
    response = client.post(f"{BASE}/requests/{request_id}/fulfil", headers=officer)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def subject_of(services: Services, email: str) -> str:
    with services.stores.keys() as unit:
        digests = services.subject_keys.digests({"email": email})
        subject_id = services.subject_keys.owners(unit, digests)["email"]
    return subject_id


def ciphertexts_of(services: Services, subject_id: str) -> list[tuple[bytes, FieldContext]]:
    found = []
    with services.stores.read() as unit:
        for row in unit.session.scalars(select(Response).where(Response.subject_id == subject_id)):
            for column in ("email_ct", "name_ct", "customer_id_ct", "comment_ct"):
                value = getattr(row, column)
                if value is not None:
                    found.append((value, FieldContext("response", column, row.id, subject_id)))
    return found


def test_erasure_leaves_nothing_of_the_subject(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str], services: Services
) -> None:
    seed(client, collector)
    subject_id = subject_of(services, CANARY["email"])
    old_ciphertexts = ciphertexts_of(services, subject_id)
    body = erase(client, officer, {"email": CANARY["email"]})
    certificate = body["certificate"]
    assert (body["status"], certificate["subject_ref"]) == ("completed", subject_id)
    assert (certificate["responses_erased"], certificate["consents_erased"]) == (3, 3)
    assert certificate["keys_destroyed"] == 1

    # No key or index row for the subject; every key left fails on its old ciphertext.
    with services.stores.keys() as unit:
        assert (
            unit.session.scalars(
                select(SubjectKey).where(SubjectKey.subject_id == subject_id)
            ).all()
            == []
        )
        assert (
            unit.session.scalars(
                select(SubjectLookup).where(SubjectLookup.subject_id == subject_id)
            ).all()
            == []
        )
        remaining = list(unit.session.scalars(select(SubjectKey)))
    assert len(remaining) == 1  # the keeper's
    assert len(old_ciphertexts) == 10  # 4 + 2 + 4 fields
    for key in remaining:
        dek = unwrap_dek(
            services.key_provider.kek(key.kek_id),
            key.wrapped_dek,
            subject_id=key.subject_id,
            dek_version=key.dek_version,
        )
        for ciphertext, context in old_ciphertexts:
            for candidate in (
                context,
                FieldContext(context.table, context.column, context.row_id, key.subject_id),
            ):
                with pytest.raises(DecryptionFailed):
                    decrypt_field(dek, ciphertext, candidate)

    # The canaries are nowhere in either database.
    dump = stored_bytes(services)
    for canary in (*CANARY.values(), CANARY_COMMENT, "canary-erase"):
        assert canary.encode() not in dump
        assert canary.casefold().encode() not in dump

    # The anonymised response keeps its score, unlinked; the keeper is untouched.
    with services.stores.read() as unit:
        rows = list(unit.session.scalars(select(Response)))
    assert sorted((r.nps, r.subject_id is None) for r in rows) == [(3, True), (10, False)]


def test_erasure_anonymises_as_the_sweep_does_under_a_fresh_id(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str], services: Services
) -> None:
    body = submission(respondent=CANARY, answers={"nps": 4, "csat": 2, "comment": "weg"})
    recorded = client.post("/api/v1/responses", json=body, headers=collector)
    old_id = recorded.get_json()["response_id"]
    erase(client, officer, {"email": CANARY["email"]})

    with services.stores.read() as unit:
        (row,) = unit.session.scalars(select(Response))
    assert (row.survey_id, row.touchpoint, row.nps, row.csat) == (
        body["survey_id"],
        body["touchpoint"],
        4,
        2,
    )
    dropped = (row.subject_id, row.consent_id, row.consent_expires_at, row.created_at, row.locale)
    assert dropped == (None, None, None, None, None)
    assert (row.email_ct, row.name_ct, row.customer_id_ct, row.comment_ct) == (None,) * 4
    # The old id is named in the audit entry beside the subject: keeping it would tie
    # the scores back to the person; the real expiry would give the recording moment.
    assert row.id != old_id
    assert row.anonymised_at is not None
    assert row.expires_at.year == 9999
    with services.stores.read() as unit:
        assert unit.session.scalar(select(Response).where(Response.id == old_id)) is None


def test_after_erasure_access_by_email_or_customer_id_finds_nothing(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> None:
    seed(client, collector)
    erase(client, officer, {"customer_id": CANARY["customer_id"]})
    for subject in ({"email": " Canary-Erase@Example.NL"}, {"customer_id": CANARY["customer_id"]}):
        request_id = request(client, officer, "access", subject)
        export = client.post(f"{BASE}/requests/{request_id}/fulfil", headers=officer).get_json()[
            "export"
        ]
        assert (export["subject_refs"], export["responses"], export["consents"]) == ([], [], [])
    keeper = request(client, officer, "access", {"email": KEEPER["email"]})
    export = client.post(f"{BASE}/requests/{keeper}/fulfil", headers=officer).get_json()["export"]
    assert [r["answers"]["comment"] for r in export["responses"]] == ["blijft staan"]


def test_certificate_hash_is_in_an_intact_audit_chain(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str], services: Services
) -> None:
    seed(client, collector)
    certificate = erase(client, officer, {"email": CANARY["email"]})["certificate"]
    assert verify_chain(services.stores).intact
    with services.stores.read() as unit:
        entry = unit.session.scalars(
            select(AuditEntry).where(AuditEntry.hash == certificate["audit_hash"])
        ).one()
    assert (entry.action, entry.request_id) == ("request.fulfilled", certificate["request_id"])
    assert CANARY["email"] not in entry.details
    stored = client.get(f"{BASE}/requests/{certificate['request_id']}", headers=officer).get_json()
    assert stored["result"] == certificate


def test_subject_found_by_two_identifiers_on_two_subjects_is_erased_whole(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str], services: Services
) -> None:
    by_email = submission(respondent={"email": "twee@example.nl"})
    by_customer = submission(respondent={"customer_id": "C-TWEE"})
    for body in (by_email, by_customer):
        client.post("/api/v1/responses", json=body, headers=collector)
    body = erase(client, officer, {"email": "twee@example.nl", "customer_id": "C-TWEE"})
    assert body["certificate"]["keys_destroyed"] == 2
    with services.stores.keys() as unit:
        assert unit.session.scalars(select(SubjectKey)).all() == []


def test_erasure_of_a_request_rejected_meanwhile_erases_nothing(
    client: FlaskClient,
    officer: dict[str, str],
    collector: dict[str, str],
    services: Services,
) -> None:
    # The erasure's statements go out with the request's lock, before its status is
    # known: a request no longer verified must roll all of them back.
    seed(client, collector)
    request_id = request(client, officer, "erasure", {"email": CANARY["email"]})
    digests = services.subject_keys.digests({"email": CANARY["email"]})
    with services.stores.read_statements() as reads:
        found = services.subject_rights.finder.find(reads, digests)
    rejected = client.post(
        f"{BASE}/requests/{request_id}/reject", json={"reason": "not them"}, headers=officer
    )
    assert rejected.status_code == 200
    before, readable = row_counts(services), ciphertexts_of(services, found.ids[0])

    with pytest.raises(Conflict):
        services.subject_rights.erasure.erase(request_id, found, "officer")

    assert found.ids == [subject_of(services, CANARY["email"])]
    assert readable
    assert (row_counts(services), ciphertexts_of(services, found.ids[0])) == (before, readable)


def test_crash_between_stores_is_finished_by_fulfilling_again(
    client: FlaskClient,
    officer: dict[str, str],
    collector: dict[str, str],
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(client, collector)
    subject_id = subject_of(services, CANARY["email"])
    request_id = request(client, officer, "erasure", {"email": CANARY["email"]})

    def crash(self: ErasureService, subject_ids: list[str]) -> tuple[int, int]:
        raise ConnectionError("key store went away")

    with monkeypatch.context() as patch:
        patch.setattr(ErasureService, "shred", crash)
        assert (
            client.post(f"{BASE}/requests/{request_id}/fulfil", headers=officer).status_code >= 500
        )
    # Half done: data gone, key still there; nothing readable is left in the data store.
    assert ciphertexts_of(services, subject_id) == []
    with services.stores.keys() as unit:
        assert services.subject_keys.open(unit, subject_id) is not None
    again = client.post(f"{BASE}/requests/{request_id}/fulfil", headers=officer)
    assert again.status_code == 200
    assert again.get_json()["certificate"]["keys_destroyed"] == 1
    with services.stores.keys() as unit:
        assert services.subject_keys.open(unit, subject_id) is None
        assert unit.session.get(KeyTombstone, subject_id) is not None


def _backup(services: Services) -> dict[str, dict[str, list[dict[str, Any]]]]:
    copy: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for store, engine in (
        ("data", services.databases.data_engine),
        ("keystore", services.databases.keys_engine),
    ):
        with engine.connect() as connection:
            copy[store] = {
                table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                for table in METADATA[store].sorted_tables
            }
    return copy


def _restore(
    services: Services, copy: dict[str, dict[str, list[dict[str, Any]]]], store: str
) -> None:
    engine = services.databases.data_engine if store == "data" else services.databases.keys_engine
    tables = METADATA[store].sorted_tables
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # As `pg_restore --disable-triggers`: the audit log refuses deletes (0012).
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(tables):
            connection.execute(delete(table))
        for table in tables:
            if copy[store][table.name]:
                connection.execute(insert(table), copy[store][table.name])


@pytest.mark.parametrize("restored", [("data",), ("keystore",), ("data", "keystore")])
def test_erasures_replay_erases_again_after_a_backup_is_restored(
    client: FlaskClient,
    officer: dict[str, str],
    collector: dict[str, str],
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    restored: tuple[str, ...],
) -> None:
    seed(client, collector)
    subject_id = subject_of(services, CANARY["email"])
    backup = _backup(services)
    erase(client, officer, {"email": CANARY["email"]})
    for store in restored:
        _restore(services, backup, store)
    assert CANARY_COMMENT.encode() not in stored_bytes(services)  # ciphertext, not plaintext
    if restored == ("data", "keystore"):
        # Both restored from before the erasure: only a tombstone kept elsewhere can help.
        with services.stores.data() as unit:
            unit.session.add(
                ErasureTombstone(
                    subject_id=subject_id, erased_at=services.clock.now(), reason="erasure"
                )
            )

    for name, value in {
        "FEEDBACKVAULT_INSTANCE_DIR": str(services.settings.instance_dir),
        "FEEDBACKVAULT_DATABASE_URL": services.settings.database_url,
        "FEEDBACKVAULT_KEYSTORE_URL": services.settings.keystore_url,
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["erasures", "replay"])
    assert result.exit_code == 0, result.output
    assert "erasures replayed: 1 tombstones" in result.output

    assert ciphertexts_of(services, subject_id) == []
    with services.stores.keys() as unit:
        assert services.subject_keys.open(unit, subject_id) is None
        assert unit.session.get(KeyTombstone, subject_id) is not None
        assert (
            unit.session.scalars(
                select(SubjectLookup).where(SubjectLookup.subject_id == subject_id)
            ).all()
            == []
        )
    with services.stores.read() as unit:
        assert unit.session.get(ErasureTombstone, subject_id) is not None
    assert verify_chain(services.stores).intact
    second = CliRunner().invoke(main, ["erasures", "replay"])
    assert "0 responses, 0 consents, 0 keys" in second.output
