"""Signed anchors kept outside the service expose a rolled-back or truncated audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import delete, update

from feedbackvault.app import Services
from feedbackvault.cli import main
from feedbackvault.crypto.signing import verify_receipt
from feedbackvault.storage.data_models import AuditEntry, AuditHead
from tests.support import behind_the_app, submission

BASE = "/api/v1/privacy"


def cli(services: Services, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=dict(services.settings.environ))


def record(client: FlaskClient, collector: dict[str, str], count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        body = submission(respondent={"email": f"anker{i}@example.nl"})
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201


def anchor(services: Services, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    result = cli(services, "audit", "anchor")
    assert result.exit_code == 0, result.output
    [line] = result.output.strip().splitlines()
    path = tmp_path / f"anchor-{len(list(tmp_path.iterdir()))}.jsonl"
    path.write_text(line + "\n")
    return json.loads(line), path


def roll_back_to(services: Services, seq: int) -> None:
    """Delete every entry after `seq` and move the head back onto it, as an attacker would."""
    with services.stores.read() as unit:
        kept = list(unit.audit.records(up_to=seq))[-1]
    behind_the_app(
        services,
        delete(AuditEntry).where(AuditEntry.seq > seq),
        update(AuditHead).values(seq=kept.seq, hash=kept.hash),
    )


def test_anchor_is_one_signed_json_line_under_its_own_key(
    services: Services, client: FlaskClient, collector: dict[str, str], tmp_path: Path
) -> None:
    record(client, collector, 2)
    signed, _ = anchor(services, tmp_path)
    assert sorted(signed) == ["at", "hash", "public_key", "seq", "signature"]
    with services.stores.read() as unit:
        assert (signed["seq"], signed["hash"]) == unit.audit.head()
    payload = {k: signed[k] for k in ("seq", "hash", "at", "public_key")}
    assert verify_receipt(signed["public_key"], payload, signed["signature"])
    receipt_key = client.get("/api/v1/receipts/public-key").get_json()["public_key"]
    assert signed["public_key"] != receipt_key


def test_rolled_back_tail_passes_plain_verify_but_fails_naming_the_anchor(
    services: Services, client: FlaskClient, collector: dict[str, str], tmp_path: Path
) -> None:
    record(client, collector, 3)
    signed, path = anchor(services, tmp_path)
    record(client, collector, 2, start=3)
    assert cli(services, "audit", "verify", "--anchor", str(path)).exit_code == 0
    roll_back_to(services, signed["seq"] - 2)
    assert cli(services, "audit", "verify").exit_code == 0  # the chain alone cannot tell
    result = cli(services, "audit", "verify", "--anchor", str(path))
    assert result.exit_code == 1
    assert f"anchor {signed['hash']} (entry {signed['seq']})" in result.output


def test_anchor_before_the_rolled_back_entries_still_holds(
    services: Services, client: FlaskClient, collector: dict[str, str], tmp_path: Path
) -> None:
    record(client, collector, 2)
    signed, path = anchor(services, tmp_path)
    record(client, collector, 2, start=2)
    roll_back_to(services, signed["seq"])
    result = cli(services, "audit", "verify", "--anchor", str(path))
    assert result.exit_code == 0 and "1 anchors held" in result.output


def test_erasure_certificate_is_an_anchor_too(
    services: Services,
    client: FlaskClient,
    collector: dict[str, str],
    officer: dict[str, str],
    tmp_path: Path,
) -> None:
    record(client, collector, 1)
    created = client.post(
        f"{BASE}/requests",
        json={"kind": "erasure", "subject": {"email": "anker0@example.nl"}},
        headers=officer,
    ).get_json()
    client.post(f"{BASE}/requests/{created['id']}/verify", json={"method": "m"}, headers=officer)
    fulfilled = client.post(f"{BASE}/requests/{created['id']}/fulfil", headers=officer).get_json()
    audit_hash = fulfilled["certificate"]["audit_hash"]
    whole = tmp_path / "fulfilled.json"
    whole.write_text(json.dumps(fulfilled, indent=2))
    bare = tmp_path / "hash.txt"
    bare.write_text(audit_hash + "\n")
    for path in (whole, bare):
        assert cli(services, "audit", "verify", "--anchor", str(path)).exit_code == 0
    with services.stores.read() as unit:
        [erasure] = [r for r in unit.audit.find() if r.hash == audit_hash]
    roll_back_to(services, erasure.seq - 1)
    for path in (whole, bare):
        result = cli(services, "audit", "verify", "--anchor", str(path))
        assert result.exit_code == 1 and f"anchor {audit_hash} (any entry)" in result.output


@pytest.mark.parametrize(
    "forge",
    [
        lambda a: {**a, "seq": a["seq"] - 1},
        lambda a: {**a, "hash": "0" * 64},
        lambda a: {**a, "at": "2020-01-01T00:00:00Z"},
    ],
)
def test_forged_anchor_is_refused(
    services: Services,
    client: FlaskClient,
    collector: dict[str, str],
    tmp_path: Path,
    forge: Any,
) -> None:
    record(client, collector, 2)
    signed, path = anchor(services, tmp_path)
    path.write_text(json.dumps(forge(signed)) + "\n")
    result = cli(services, "audit", "verify", "--anchor", str(path))
    assert result.exit_code == 1 and "signature does not verify" in result.output
